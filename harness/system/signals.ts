// The exit status a process ends with when a signal stops it: 128 + the signal's number. The
// CLI's interrupt handling and the library's labs (lifecycle/session.ts) both exit with it.
export const SIGNAL_STATUS = { SIGINT: 130, SIGTERM: 143 } as const;
export type SignalName = keyof typeof SIGNAL_STATUS;
