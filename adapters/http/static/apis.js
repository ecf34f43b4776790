// Renders an OpenAPI document with the embedded Swagger UI (no network access beyond this
// server: "Try it out" is disabled, and the document comes from Orbit itself).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const el = document.getElementById("swagger-ui");
  if (!el || typeof window.SwaggerUIBundle !== "function") return;
  window.SwaggerUIBundle({
    url: el.dataset.spec,
    domNode: el,
    deepLinking: true,
    supportedSubmitMethods: [],
    validatorUrl: null,
  });
});
