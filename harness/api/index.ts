// overlab as a library: the package's main entry point (`import { Lab } from 'overlab'`).
// docs/library.md shows it in use; docs/handle.md lists every method (generated from these types).
export { Lab, type LabDefinition, type LabTestResult, type LabUpOptions } from './lab.ts';
export type { Command, ContainerHandle, ExecResult, Fault, HostHandle, ReachOptions } from '../probes/handle.ts';
export type { Capability, HostCapabilities } from '../lab/capabilities.ts';
export type { SpecPlan } from '../lab/facts.ts';
export type { TaskEvent } from '../steps.ts';
export type { LabEvent } from '../events.ts';
export { OverlabError, LabFileError, LabNotFoundError, LabStateError, PermissionError, PrerequisiteError, UsageError } from '../errors.ts';
