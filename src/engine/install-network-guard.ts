/**
 * Imported first by the engine page and the engine worker, so the guard is in place before any
 * library module runs (a library that keeps its own reference to `fetch` gets the guarded one).
 */
import { guardNetwork, type GuardedScope } from './network-guard';

guardNetwork(globalThis as unknown as GuardedScope);
