// Renders /api/v1/openapi.json: each route with its parameters, its answers
// and the GraphQL document it runs. Text only goes through textContent.
"use strict";

function el(tag, text, children = []) {
  const node = document.createElement(tag);
  if (text) node.textContent = text;
  node.append(...children);
  return node;
}

function typeOf(schema) {
  if (!schema) return "";
  if (schema.enum) return schema.enum.join(" | ");
  if (schema.type === "array") return `liste de ${typeOf(schema.items)}`;
  return Array.isArray(schema.type) ? schema.type.join(" ou ") : schema.type || "";
}

function route(path, operation) {
  const rows = (operation.parameters || []).map((p) => el("tr", "", [
    el("td", "", [el("code", p.name)]),
    el("td", p.in === "path" ? "chemin" : "requête"),
    el("td", typeOf(p.schema)),
    el("td", p.required ? "oui" : "non"),
    el("td", p.description || ""),
  ]));
  const answers = Object.entries(operation.responses).map(([status, answer]) =>
    el("li", "", [el("code", status), document.createTextNode(` ${answer.description}`)]));
  return el("section", "", [
    el("h2", "", [el("span", "GET", []), document.createTextNode(" "), el("code", path)]),
    el("p", operation.summary),
    rows.length ? el("table", "", [
      el("caption", `Paramètres de ${path}`),
      el("thead", "", [el("tr", "", ["Nom", "Où", "Type", "Requis", "Description"].map((h) => el("th", h)))]),
      el("tbody", "", rows),
    ]) : el("p", "Aucun paramètre."),
    el("h3", "Réponses"),
    el("ul", "", answers),
    el("h3", "Document GraphQL exécuté"),
    el("pre", operation["x-graphql-document"]),
  ]);
}

async function render() {
  const target = document.getElementById("routes");
  try {
    const response = await fetch("/api/v1/openapi.json");
    const description = await response.json();
    const sections = Object.entries(description.paths).map(([path, item]) => route(path, item.get));
    sections.forEach((section) => section.querySelector("h2 span").className = "method");
    target.replaceChildren(...sections);
  } catch (error) {
    target.replaceChildren(el("p", `La description n'a pas pu être lue : ${error.message}`));
  }
}

render();
