import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { parseBooleanWord } from "../../config/boolean-words.js";
import type { RepositoryService } from "../../repositories/service.js";
import { sendProblem } from "../problem.js";
import {
  listRepositoriesSchema,
  repositoryByNameSchema,
  repositoryByOwnerSchema,
} from "../schemas/repositories.js";

export interface RepositoryRoutesOptions {
  service: RepositoryService;
}

/** The schema has already checked the word, so only its meaning is left to read. */
const isTrue = (word: string | undefined) => word !== undefined && parseBooleanWord(word) === true;

export const repositoryRoutes: FastifyPluginAsyncTypebox<RepositoryRoutesOptions> = async (
  app,
  { service },
) => {
  app.get("/repositories", { schema: listRepositoriesSchema }, async (request) => {
    const { username, from_local } = request.query;
    return isTrue(from_local) ? service.listFromLocal(username) : service.listFromGitHub(username);
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
