//! `GET /api/v1/openapi.json`: the REST API described in OpenAPI 3.1,
//! generated from the routes' table (`rest::ROUTES`) and the schema: each
//! route's parameters are those its handler reads, and its answer's JSON
//! Schema is its GraphQL document's selection, typed and described by the
//! SDL. Each operation carries its document (`x-graphql-document`).

use async_graphql::parser::types::{
    BaseType, DocumentOperations, Selection, SelectionSet, Type, TypeKind, TypeSystemDefinition,
};
use serde_json::{Map, Value, json};

use super::parameters::{Kind, Parameter, Sdl};
use super::rest::{ROUTES, Route};

/// A type of the SDL: its kind and description.
fn type_definition<'a>(
    sdl: &'a Sdl,
    name: &str,
) -> Option<&'a async_graphql::parser::types::TypeDefinition> {
    sdl.definitions()
        .iter()
        .find_map(|definition| match definition {
            TypeSystemDefinition::Type(ty) if ty.node.name.node == name => Some(&ty.node),
            _ => None,
        })
}

/// The type and description of the field `field` of the object or
/// interface `parent`.
fn field_of(sdl: &Sdl, parent: &str, field: &str) -> (Type, Option<String>) {
    let fields = match type_definition(sdl, parent).map(|definition| &definition.kind) {
        Some(TypeKind::Object(object)) => &object.fields,
        Some(TypeKind::Interface(interface)) => &interface.fields,
        _ => panic!("{parent} has no fields"),
    };
    let definition = fields
        .iter()
        .find(|candidate| candidate.node.name.node == field)
        .unwrap_or_else(|| panic!("{parent} has no field {field}"));
    (
        definition.node.ty.node.clone(),
        definition
            .node
            .description
            .as_ref()
            .map(|d| d.node.trim().to_owned()),
    )
}

fn nullable(schema: Value, nullable: bool) -> Value {
    if nullable {
        json!({ "anyOf": [schema, { "type": "null" }] })
    } else {
        schema
    }
}

/// The JSON Schema of a value of `ty` with `selection` selected.
fn schema_of(sdl: &Sdl, ty: &Type, selection: &SelectionSet) -> Value {
    let schema = match &ty.base {
        BaseType::List(inner) => {
            json!({ "type": "array", "items": schema_of(sdl, inner, selection) })
        }
        BaseType::Named(name) => named_schema(sdl, name, selection),
    };
    nullable(schema, ty.nullable)
}

fn named_schema(sdl: &Sdl, name: &str, selection: &SelectionSet) -> Value {
    match name {
        "String" | "ID" => return json!({ "type": "string" }),
        "Int" => return json!({ "type": "integer" }),
        "Float" => return json!({ "type": "number" }),
        "Boolean" => return json!({ "type": "boolean" }),
        "DateTime" => return json!({ "type": "string", "format": "date-time" }),
        _ => {}
    }
    match type_definition(sdl, name).map(|definition| &definition.kind) {
        Some(TypeKind::Enum(values)) => json!({
            "type": "string",
            "enum": values.values.iter().map(|v| v.node.value.node.to_string()).collect::<Vec<_>>(),
        }),
        Some(TypeKind::Scalar) | None => json!({}),
        Some(_) => object_schema(sdl, name, selection),
    }
}

/// An object, interface or union with `selection`: the fields selected
/// directly are required (GraphQL always answers them, null or not);
/// those of `... on Type` fragments are there for that type only.
fn object_schema(sdl: &Sdl, name: &str, selection: &SelectionSet) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for item in &selection.items {
        match &item.node {
            Selection::Field(field) => {
                let field = &field.node;
                let key = field.response_key().node.to_string();
                let schema = if field.name.node == "__typename" {
                    json!({ "type": "string", "description": "The object's GraphQL type." })
                } else {
                    let (ty, description) = field_of(sdl, name, &field.name.node);
                    let mut schema = schema_of(sdl, &ty, &field.selection_set.node);
                    if let (Some(description), Some(object)) = (description, schema.as_object_mut())
                    {
                        object.insert("description".into(), description.into());
                    }
                    schema
                };
                properties.insert(key.clone(), schema);
                required.push(Value::String(key));
            }
            Selection::InlineFragment(fragment) => {
                let fragment = &fragment.node;
                let on = fragment
                    .type_condition
                    .as_ref()
                    .map_or(name.to_owned(), |condition| {
                        condition.node.on.node.to_string()
                    });
                let schema = object_schema(sdl, &on, &fragment.selection_set.node);
                for (key, property) in schema["properties"].as_object().into_iter().flatten() {
                    let mut property = property.clone();
                    if let Some(object) = property.as_object_mut() {
                        let said = object
                            .get("description")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned();
                        object.insert("description".into(), format!("({on}) {said}").trim().into());
                    }
                    properties.entry(key.clone()).or_insert(property);
                }
            }
            Selection::FragmentSpread(_) => panic!("the REST documents spread no named fragment"),
        }
    }
    json!({ "type": "object", "properties": properties, "required": required })
}

/// The JSON Schema of a route's answer: its document's root field.
fn answer_schema(sdl: &Sdl, route: &Route) -> Value {
    let document =
        async_graphql::parser::parse_query(route.document).expect("a REST route's document parses");
    let operation = match &document.operations {
        DocumentOperations::Single(operation) => operation,
        DocumentOperations::Multiple(named) if named.len() == 1 => {
            named.values().next().expect("one operation")
        }
        DocumentOperations::Multiple(_) => panic!("a REST route's document has one operation"),
    };
    let root = operation
        .node
        .selection_set
        .node
        .items
        .iter()
        .find_map(|item| match &item.node {
            Selection::Field(field) if field.node.name.node == route.root => Some(&field.node),
            _ => None,
        })
        .expect("a REST route's document selects its root field");
    let (mut ty, description) = field_of(sdl, "Query", route.root);
    // A missing object is a 404, not a null answer.
    ty.nullable = false;
    let mut schema = schema_of(sdl, &ty, &root.selection_set.node);
    if let (Some(description), Some(object)) = (description, schema.as_object_mut()) {
        object.insert("description".into(), description.into());
    }
    schema
}

fn parameter_schema(parameter: &Parameter) -> Value {
    let one = match &parameter.kind {
        Kind::String => json!({ "type": "string" }),
        Kind::Int => json!({ "type": "integer" }),
        Kind::Boolean => json!({ "type": "boolean" }),
        Kind::Enum(values) => json!({ "type": "string", "enum": values }),
        Kind::IntOrString => json!({ "type": ["integer", "string"] }),
    };
    if parameter.list {
        json!({ "type": "array", "items": one })
    } else {
        one
    }
}

fn error(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } }
    })
}

fn operation(sdl: &Sdl, route: &Route) -> Value {
    let mut parameters: Vec<Value> = route
        .path_parameter
        .map(|name| {
            json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" },
                    "description": "The slug, as GraphQL names it." })
        })
        .into_iter()
        .collect();
    for parameter in (route.query)(sdl) {
        let mut described = json!({
            "name": parameter.name,
            "in": "query",
            "required": parameter.required,
            "schema": parameter_schema(&parameter),
        });
        if parameter.list {
            described["style"] = "form".into();
            described["explode"] = true.into();
        }
        if !parameter.description.is_empty() {
            described["description"] = parameter.description.clone().into();
        }
        parameters.push(described);
    }
    json!({
        "operationId": route.operation_id,
        "summary": route.summary,
        "description": format!("Runs this GraphQL document, its variables taken from the parameters; the answer is its `{}` field.", route.root),
        "x-graphql-document": route.document,
        "parameters": parameters,
        "responses": {
            "200": {
                "description": "The answer, as GraphQL gives it.",
                "headers": { "ETag": { "description": "For public answers: send it back in If-None-Match.", "schema": { "type": "string" } } },
                "content": { "application/json": { "schema": answer_schema(sdl, route) } }
            },
            "304": { "description": "Unchanged since the ETag sent in If-None-Match." },
            "400": error("A parameter is unknown or not of its type (code BAD_REQUEST), or the request is over a limit."),
            "401": error("A token is present but invalid (code UNAUTHENTICATED): never read as anonymous."),
            "404": error("Nothing there for this caller (code NOT_FOUND)."),
            "429": error("Over the rate limit (code RATE_LIMITED); Retry-After says when to come back."),
        }
    })
}

/// The OpenAPI 3.1 description of the REST API served at `server`.
pub fn description(sdl: &Sdl, server: &str) -> Value {
    let paths: Map<String, Value> = ROUTES
        .iter()
        .map(|route| {
            (
                route.path.to_owned(),
                json!({ "get": operation(sdl, route) }),
            )
        })
        .collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Catalogue du programme 10 % — REST API",
            "version": "1",
            "description": "Each route runs a fixed GraphQL document through the gateway's GraphQL API (same visibility, caching, rate limits and error codes) and answers with its result. Public material needs no token; a bearer token from a trusted issuer also shows what is for public agents.",
        },
        "servers": [{ "url": server }],
        "paths": paths,
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["errors"],
                    "properties": { "errors": { "type": "array", "items": {
                        "type": "object",
                        "required": ["message", "extensions"],
                        "properties": {
                            "message": { "type": "string" },
                            "extensions": { "type": "object", "required": ["code"],
                                "properties": { "code": { "type": "string", "description": "The GraphQL error code." } } }
                        }
                    } } }
                }
            },
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer", "description": "A token from a trusted issuer (ProConnect, the gateway's own sign-in)." }
            }
        },
        "security": [{}, { "bearer": [] }],
    })
}
