// The route table of the API, in the order the OpenAPI document lists it.

import { dataRoutes } from './data-routes.js';
import { publicRoutes } from './public-routes.js';

export const apiRoutes = [...publicRoutes, ...dataRoutes];
