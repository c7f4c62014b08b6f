// What a provider and the provisioning are handed for one lab: its state (folder and file), the
// events to report to, and the signal that cancels. Above the host contract (host.ts), which
// knows nothing of a lab's records.
import type { Events } from '../events.ts';
import type { StateStore } from './store.ts';

export interface LabContext {
  /** The lab's state folder (.overlab/<lab>) and its state file. */
  store: StateStore;
  events: Events;
  signal: AbortSignal;
}
