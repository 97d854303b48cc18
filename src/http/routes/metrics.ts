import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import fp from "fastify-plugin";
import Type from "typebox";
import type { Metrics } from "../../observability/metrics.js";

export interface MetricsRoutesOptions {
  metrics: Metrics;
}

/** Operations endpoints: probes and scrapes would otherwise swamp the API's own figures. */
export const UNMEASURED_ROUTES = new Set(["/metrics", "/health", "/ready"]);

const metricsRoutesPlugin: FastifyPluginAsyncTypebox<MetricsRoutesOptions> = async (
  app,
  { metrics },
) => {
  // Callback style: an async hook costs a promise on every request.
  app.addHook("onResponse", (request, reply, done) => {
    const route = request.routeOptions.url;
    if (route === undefined || !UNMEASURED_ROUTES.has(route)) {
      metrics.httpDuration.observe(
        {
          method: request.method,
          // Unrouted requests share one label: their raw URLs would make a series per URL.
          route: route ?? "unmatched",
          status_class: `${Math.floor(reply.statusCode / 100)}xx`,
        },
        reply.elapsedTime / 1000,
      );
    }
    done();
  });

  app.get(
    "/metrics",
    {
      schema: {
        operationId: "getMetrics",
        summary: "Prometheus metrics",
        description:
          "Requests by route and status class, GitHub requests by kind and outcome, GitHub's budget as last seen, the database pool and the process, in Prometheus' text format.",
        tags: ["operations"],
        produces: ["text/plain"],
        response: {
          200: Type.String({
            description: "Prometheus' text exposition format 0.0.4",
            examples: [
              '# HELP http_request_duration_seconds Time to answer a request to this API, by route pattern and status class\n# TYPE http_request_duration_seconds histogram\nhttp_request_duration_seconds_count{method="GET",route="/repositories",status_class="2xx"} 3\n',
            ],
          }),
        },
      },
    },
    async (_request, reply) => {
      reply.type(metrics.registry.contentType);
      return metrics.registry.metrics();
    },
  );
};

export const metricsRoutes = fp(metricsRoutesPlugin, { name: "metrics" });
