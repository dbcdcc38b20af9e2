// PostGraphile as its documentation sets it up for production: the Amber
// preset over the `public` schema, no GraphiQL, no explain, no watch mode.
// The same database and pool size (10) as the gateway. Conditions and
// orderings on every column, not only indexed ones (PgIndexBehaviorsPlugin),
// so it can be asked what the gateway answers (`visibility` has no index).
import { makePgService } from "postgraphile/adaptors/pg";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";

export default {
  extends: [PostGraphileAmberPreset],
  disablePlugins: ["PgIndexBehaviorsPlugin"],
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL,
      schemas: ["public"],
      poolConfig: { max: 10 },
    }),
  ],
  grafserv: {
    host: "127.0.0.1",
    port: Number(process.env.PORT),
    graphiql: false,
    watch: false,
  },
  grafast: { explain: false },
};
