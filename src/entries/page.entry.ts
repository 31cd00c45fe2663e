/**
 * MAIN-world content script (document_start, all frames). Wraps getUserMedia and talks to
 * the isolated content script over a private port. Defines nothing on `window`.
 */
import workerSource from 'virtual:worker-source';
import { createFilter } from '../page/filters/registry';
import { PageController } from '../page/interception/controller';

const controller = new PageController({ workerSource, createFilter });
controller.connectBridge();
