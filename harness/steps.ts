// Long operations as data: a list of steps, each a set of tasks (usually one per host) that
// run concurrently. The CLI renders them with listr2; tests and scripts run them plainly.

export interface Task {
  title: string;
  host?: string;
  /** Returns a short outcome shown next to the title ("etcd 3.4.23", "10.0.4.2"). */
  run(signal: AbortSignal): Promise<string | void>;
}

export interface Step {
  title: string;
  /** Built when the step starts, so it can use what earlier steps found out. */
  tasks(): Task[];
}

export interface TaskEvent {
  step: string;
  task: string;
  host?: string;
  state: 'started' | 'done' | 'failed';
  outcome?: string;
  error?: string;
  ms?: number;
}

/** Runs steps in order and each step's tasks concurrently; the first failure stops the run. */
export async function runSteps(steps: Step[], options: { signal: AbortSignal; onTask?: (e: TaskEvent) => void }): Promise<void> {
  for (const step of steps) {
    options.signal.throwIfAborted();
    const tasks = step.tasks();
    const results = await Promise.allSettled(
      tasks.map(async (t) => {
        const base = { step: step.title, task: t.title, ...(t.host ? { host: t.host } : {}) };
        const started = Date.now();
        options.onTask?.({ ...base, state: 'started' });
        try {
          const outcome = await t.run(options.signal);
          options.onTask?.({ ...base, state: 'done', ms: Date.now() - started, ...(outcome ? { outcome } : {}) });
        } catch (e) {
          options.onTask?.({ ...base, state: 'failed', ms: Date.now() - started, error: e instanceof Error ? e.message : String(e) });
          throw e;
        }
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}

/** The same steps, each task reporting how long it ran (done or failed) to `record`. */
export function timedSteps(steps: Step[], record: (t: { step: string; host?: string; ms: number }) => void): Step[] {
  return steps.map((step) => ({
    ...step,
    tasks: () =>
      step.tasks().map((task) => ({
        ...task,
        run: async (signal: AbortSignal) => {
          const started = Date.now();
          try {
            return await task.run(signal);
          } finally {
            record({ step: step.title, ...(task.host ? { host: task.host } : {}), ms: Date.now() - started });
          }
        },
      })),
  }));
}
