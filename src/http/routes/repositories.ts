import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyReply } from "fastify";
import { parseBooleanWord } from "../../config/boolean-words.js";
import type { RepositoryService } from "../../repositories/service.js";
import { sendProblem } from "../problem.js";
import { type RenderedListing, RenderedListings } from "../rendered-listings.js";
import {
  listRepositoriesSchema,
  repositoryByNameSchema,
  repositoryByOwnerSchema,
} from "../schemas/repositories.js";

export interface RepositoryRoutesOptions {
  service: RepositoryService;
}

// About 16 saved listings of 5,000 repositories, or 70 of 1,000.
const RENDERED_LISTINGS_MAX_BYTES = 16 * 1024 * 1024;

/** Sends JSON the route's schema has already serialised; the typed reply only takes objects. */
function sendSerialised(reply: FastifyReply, body: Buffer): FastifyReply {
  return reply.type("application/json; charset=utf-8").send(body);
}

/** The schema has already checked the word, so only its meaning is left to read. */
const isTrue = (word: string | undefined) => word !== undefined && parseBooleanWord(word) === true;

export const repositoryRoutes: FastifyPluginAsyncTypebox<RepositoryRoutesOptions> = async (
  app,
  { service },
) => {
  const renderedListings = new RenderedListings(RENDERED_LISTINGS_MAX_BYTES);
  app.get("/repositories", { schema: listRepositoriesSchema }, async (request, reply) => {
    const { username, from_local, save_data } = request.query;
    const local = isTrue(from_local);
    const save = isTrue(save_data);
    if (local && save) {
      return sendProblem(request, reply, {
        status: 400,
        type: "invalid-parameter",
        title: "Invalid request parameter",
        detail: `Query parameters "from_local=${from_local}" and "save_data=${save_data}" do not go together: the local copy cannot save itself. To save the account from GitHub, ask /repositories/?username=${username}&save_data=true; to read what is saved, /repositories/?username=${username}&from_local=true.`,
      });
    }
    if (save) {
      // Never answered from a held copy: the save itself is what was asked for.
      return service.saveFromGitHub(username, request.signal);
    }
    const key = `${local ? "local" : "github"}:${username.toLowerCase()}`;
    const rendered = renderedListings.get(key);
    const held = rendered?.version;
    const read = local
      ? await service.listFromLocal(username, typeof held === "object" ? held : undefined)
      : // Only a listing takes the caller's signal: it is the work worth cancelling (a page
        // after page), and reading request.signal costs every request a listener.
        await service.listFromGitHub(
          username,
          typeof held === "string" ? held : undefined,
          request.signal,
        );
    if (read === "unchanged") {
      // Only a held version can be unchanged.
      return sendSerialised(reply, (rendered as RenderedListing).body);
    }
    const body = Buffer.from(reply.serialize(read.listing) as string);
    if (read.version !== undefined) renderedListings.set(key, { version: read.version, body });
    return sendSerialised(reply, body);
  });

  app.get("/repositories/:owner/:name", { schema: repositoryByOwnerSchema }, async (request) => {
    const { owner, name } = request.params;
    return service.getDetails(owner, name, isTrue(request.query.save_data));
  });

  app.get("/repositories/:name", { schema: repositoryByNameSchema }, async (request, reply) => {
    const { name } = request.params;
    const { username, save_data } = request.query;
    if (username === undefined) {
      // A repository name alone is ambiguous on GitHub: many owners can have one of that name.
      return sendProblem(request, reply, {
        status: 400,
        type: "invalid-parameter",
        title: "Invalid request parameter",
        detail: `Query parameter "username" is missing: a repository name alone does not say whose repository. Ask for /repositories/{owner}/${name}?save_data=${save_data} or /repositories/${name}?username={owner}&save_data=${save_data}.`,
      });
    }
    return service.getDetails(username, name, isTrue(save_data));
  });
};
