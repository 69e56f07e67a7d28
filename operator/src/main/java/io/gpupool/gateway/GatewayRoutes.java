package io.gpupool.gateway;

import io.vertx.ext.web.Router;

/**
 * Adds routes to the gateway's HTTP server, next to the OpenAI API: the tunnel's endpoint for contributed clusters'
 * agents is mounted this way. In the gateway role every CDI bean implementing it is mounted at start-up.
 */
public interface GatewayRoutes {

    void mount(Router router);
}
