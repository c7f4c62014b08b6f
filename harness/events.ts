// What the library tells the CLI while it works. The library never prints; the CLI renders
// these as progress, plain lines or JSON.

export type LabEvent =
  | { type: 'info'; message: string; host?: string }
  | { type: 'warn'; message: string; host?: string }
  | { type: 'command'; host: string; command: string };

export interface Events {
  emit(event: LabEvent): void;
}

export const silentEvents: Events = { emit() {} };

/** Collects events in memory (tests, --json summaries). */
export class EventLog implements Events {
  readonly events: LabEvent[] = [];
  emit(event: LabEvent): void {
    this.events.push(event);
  }
}
