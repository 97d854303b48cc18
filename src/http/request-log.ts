import { type FastifyReply, type FastifyRequest, LogController } from "fastify";

/**
 * Fastify's request logging with one line per request instead of two: nothing as a request
 * comes in, and what was asked, the status and the time taken once the answer is out. At
 * thousands of requests a second the incoming line cost as much as the rest of a repeated
 * details request's handling, and the completed line now says all it did.
 */
export class OneLinePerRequest extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const line = { req: request, res: reply, responseTime: reply.elapsedTime };
    if (error) reply.log.error({ ...line, err: error }, "request errored");
    else reply.log.info(line, "request completed");
  }
}
