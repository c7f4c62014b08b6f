// A module resolve hook for `overlab test` (registered by bin/overlab.js when it runs the
// sources): a user's spec file that imports 'overlab/spec' from a folder with no overlab of its
// own in node_modules (a teacher's checks folder, a scratch folder) gets this overlab's handle.
// Where the import resolves on its own (overlab installed beside the spec, or this repo by its
// package name), that is what it gets. ES modules only: a .ts or .js file in a folder whose
// package.json does not say "type": "module" is CommonJS, whose require() no hook sees.
let handle;

export function initialize(data) {
  handle = data.handle;
}

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (e) {
    // Resolved through the rest of the chain, so tsx's hooks load it as TypeScript.
    if (specifier === 'overlab/spec' && e?.code === 'ERR_MODULE_NOT_FOUND') return next(handle, context);
    throw e;
  }
}
