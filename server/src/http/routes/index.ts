import type { FastifyInstance } from 'fastify';
import healthRoutes from './health.js';
import adminRoutes from './admin.js';
import catalogueRoutes from './catalogue.js';
import requestRoutes from './requests.js';
import loginRoutes from './login.js';
import torrentRoutes from './torrents.js';
import adminActionRoutes from './admin-actions.js';
import adminSyncRoutes from './admin-sync.js';
import deviceAppRoutes from './device-app.js';

/** Every HTTP route area, registered in this order. Add a module here to serve it. */
export const routeModules: Array<(app: FastifyInstance) => Promise<void>> = [healthRoutes, loginRoutes, adminRoutes, adminActionRoutes, adminSyncRoutes, catalogueRoutes, requestRoutes, torrentRoutes, deviceAppRoutes];
