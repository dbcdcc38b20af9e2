// PostGraphile as its documentation recommends for production on several
// cores: one worker process per core (`node:cluster`), each serving the same
// port with its own PostGraphile instance and pool (graphile.config.mjs).
// WORKERS sets the number of workers (default: the cores Node.js sees).
import cluster from "node:cluster";
import { createServer } from "node:http";
import { availableParallelism } from "node:os";
import { postgraphile } from "postgraphile";
import { grafserv } from "postgraphile/grafserv/node";
import preset from "./graphile.config.mjs";

const workers = Number(process.env.WORKERS) || availableParallelism();

if (cluster.isPrimary) {
  for (let i = 0; i < workers; i += 1) cluster.fork();
  // A worker that dies ends the run: the benchmark must not measure fewer.
  cluster.on("exit", (worker, code, signal) => {
    console.error(`worker ${worker.process.pid} ended (${signal ?? code})`);
    process.exit(1);
  });
  for (const signal of ["SIGTERM", "SIGINT"]) {
    process.on(signal, () => {
      cluster.removeAllListeners("exit");
      for (const worker of Object.values(cluster.workers)) worker.kill();
      process.exit(0);
    });
  }
} else {
  const server = createServer();
  server.on("error", (error) => {
    console.error(error);
    process.exit(1);
  });
  const serv = postgraphile(preset).createServ(grafserv);
  await serv.addTo(server);
  server.listen(preset.grafserv.port, preset.grafserv.host);
}
