// Renders steps: listr2 on a terminal (per-host lines), plain lines when piped, nothing with
// --quiet, and one JSON object a line with --json.
import { Listr } from 'listr2';
import { runSteps, type Step, type TaskEvent } from '../steps.ts';

export type OutputMode = 'human' | 'quiet' | 'json';

export async function runWithProgress(steps: Step[], mode: OutputMode, signal: AbortSignal): Promise<void> {
  if (mode !== 'human') {
    const onTask = mode === 'json' ? (e: TaskEvent) => process.stdout.write(JSON.stringify({ event: 'task', ...e }) + '\n') : undefined;
    await runSteps(steps, { signal, ...(onTask ? { onTask } : {}) });
    return;
  }
  const list = new Listr(
    steps.map((step) => ({
      title: step.title,
      task: (_ctx: unknown, parent) =>
        parent.newListr(
          step.tasks().map((t) => ({
            title: t.title,
            task: async (_c: unknown, task) => {
              const started = Date.now();
              const outcome = await t.run(signal);
              task.title = `${t.title}${outcome ? `: ${outcome}` : ''} (${((Date.now() - started) / 1000).toFixed(1)} s)`;
            },
          })),
          { concurrent: true, exitOnError: true },
        ),
    })),
    {
      renderer: 'default',
      fallbackRenderer: 'simple',
      rendererOptions: { collapseSubtasks: false },
      exitOnError: true,
      registerSignalListeners: false,
    },
  );
  await list.run();
}
