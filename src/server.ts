import { main } from "./main.js";

/** `npm start`, the image's CMD: the process is src/main.ts's `main()`. */
await main();
