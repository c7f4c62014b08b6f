// The options every command takes (--lab, --json, --quiet, --provider), as commander hands
// them to a command's function. In a module of its own so the commands need not import main.ts.
export interface GlobalOptions {
  lab?: string;
  json?: boolean;
  quiet?: boolean;
  /** Where a lab is named: the provider the caller expects it on (checked against its state). */
  provider?: string;
}
