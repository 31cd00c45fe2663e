/**
 * Chromium's service worker only (the Firefox build's background leaves it out: Firefox has no
 * offscreen documents): engine frames reach the multi-threaded engine in the offscreen document
 * through here.
 */
import { relayEngineRoutes, type RelayScope } from './offscreen-relay';

relayEngineRoutes(self as unknown as RelayScope);
