import type { FastifyInstance } from 'fastify';
import healthRoutes from './health.js';

/** Every HTTP route area, registered in this order. Add a module here to serve it. */
export const routeModules: Array<(app: FastifyInstance) => Promise<void>> = [healthRoutes];
