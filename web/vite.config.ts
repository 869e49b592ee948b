import { defineConfig } from "vite";

// The portal is served by `privacity serve` from web/dist; `npm run dev`
// proxies the API to a local `privacity demo`.
export default defineConfig({
  base: "/",
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 800 },
  server: {
    proxy: Object.fromEntries(
      ["/public", "/log", "/v1", "/healthz", "/metrics", "/openapi.json"].map((p) => [
        p,
        "http://127.0.0.1:8080",
      ]),
    ),
  },
});
