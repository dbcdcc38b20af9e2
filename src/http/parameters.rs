//! Query parameters that stand for GraphQL arguments and input fields: the
//! CSV exports and the REST routes take the GraphQL lists' filters as
//! `?status=ACTIVE&season=2`. Each parameter is read from the schema's SDL
//! (its type, enum values and description), so a filter added to GraphQL
//! is a parameter at once, checked the same way, and described the same
//! way in the OpenAPI description.

use async_graphql::parser::types::{BaseType, TypeKind, TypeSystemDefinition};
use serde_json::{Map, Value};

/// What a parameter's text is read as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    String,
    Int,
    Boolean,
    /// One of these values.
    Enum(Vec<String>),
    /// A custom scalar taking an Int or its text (`SeasonNumber`).
    IntOrString,
}

/// One query parameter and the GraphQL variable it fills.
#[derive(Debug, Clone)]
pub struct Parameter {
    pub name: String,
    pub description: String,
    pub kind: Kind,
    /// Given several times (`?languages=Python&languages=R`) for a list.
    pub list: bool,
    pub required: bool,
    /// The variable it fills, and the path of the field it fills in that
    /// variable's input object (empty: the variable itself).
    variable: &'static str,
    field: Vec<String>,
}

/// A parsed SDL, to read parameters from.
pub struct Sdl(Vec<TypeSystemDefinition>);

impl Sdl {
    pub fn parse(sdl: &str) -> Self {
        let document =
            async_graphql::parser::parse_schema(sdl).expect("the schema's own SDL parses");
        Self(document.definitions)
    }

    fn kind_of(&self, type_name: &str) -> TypeKind {
        self.0
            .iter()
            .find_map(|definition| match definition {
                TypeSystemDefinition::Type(ty) if ty.node.name.node == type_name => {
                    Some(ty.node.kind.clone())
                }
                _ => None,
            })
            .unwrap_or_else(|| panic!("the schema has no type {type_name}"))
    }

    fn scalar_kind(&self, type_name: &str) -> Kind {
        match type_name {
            "String" | "ID" => Kind::String,
            "Int" => Kind::Int,
            "Boolean" => Kind::Boolean,
            "SeasonNumber" => Kind::IntOrString,
            other => match self.kind_of(other) {
                TypeKind::Enum(values) => Kind::Enum(
                    values
                        .values
                        .iter()
                        .map(|value| value.node.value.node.to_string())
                        .collect(),
                ),
                _ => panic!("{other} is not a type a query parameter can stand for"),
            },
        }
    }

    fn parameter(
        &self,
        name: &str,
        description: Option<&str>,
        ty: &async_graphql::parser::types::Type,
        variable: &'static str,
        field: Vec<String>,
    ) -> Parameter {
        let (list, named) = match &ty.base {
            BaseType::Named(named) => (false, named.to_string()),
            BaseType::List(inner) => match &inner.base {
                BaseType::Named(named) => (true, named.to_string()),
                BaseType::List(_) => panic!("{name}: lists of lists are not parameters"),
            },
        };
        Parameter {
            name: name.to_owned(),
            description: description.unwrap_or_default().trim().to_owned(),
            kind: self.scalar_kind(&named),
            list,
            required: !ty.nullable,
            variable,
            field,
        }
    }

    /// One parameter per field of the input type `input`, filling the
    /// fields of the variable `variable`; the fields of a nested input
    /// object are parameters too, named with a dot (`usedBy.atLeast`).
    pub fn input_fields(&self, input: &str, variable: &'static str) -> Vec<Parameter> {
        self.fields_at(input, variable, &[])
    }

    fn fields_at(&self, input: &str, variable: &'static str, path: &[String]) -> Vec<Parameter> {
        let TypeKind::InputObject(object) = self.kind_of(input) else {
            panic!("{input} is not an input type");
        };
        let mut parameters = Vec::new();
        for field in &object.fields {
            let field = &field.node;
            let mut field_path = path.to_vec();
            field_path.push(field.name.node.to_string());
            if let BaseType::Named(named) = &field.ty.node.base
                && matches!(
                    self.kind_of_scalar_or_type(named),
                    Some(TypeKind::InputObject(_))
                )
            {
                parameters.extend(self.fields_at(named, variable, &field_path));
                continue;
            }
            parameters.push(self.parameter(
                &field_path.join("."),
                field.description.as_ref().map(|d| d.node.as_str()),
                &field.ty.node,
                variable,
                field_path,
            ));
        }
        parameters
    }

    /// The kind of the type named `name`; `None` for a built-in scalar.
    fn kind_of_scalar_or_type(&self, name: &str) -> Option<TypeKind> {
        match name {
            "String" | "ID" | "Int" | "Float" | "Boolean" => None,
            other => Some(self.kind_of(other)),
        }
    }
}

impl Sdl {
    /// The parameter standing for the argument `argument` of `Query.field`,
    /// filling the variable of the same name.
    pub fn argument(&self, field: &str, argument: &'static str) -> Parameter {
        let TypeKind::Object(query) = self.kind_of("Query") else {
            panic!("Query is not an object type");
        };
        let definition = query
            .fields
            .iter()
            .find(|candidate| candidate.node.name.node == field)
            .unwrap_or_else(|| panic!("Query has no field {field}"));
        let argument_definition = &definition
            .node
            .arguments
            .iter()
            .find(|candidate| candidate.node.name.node == argument)
            .unwrap_or_else(|| panic!("Query.{field} has no argument {argument}"))
            .node;
        self.parameter(
            argument,
            argument_definition
                .description
                .as_ref()
                .map(|d| d.node.as_str()),
            &argument_definition.ty.node,
            argument,
            Vec::new(),
        )
    }

    /// The type definitions, for the OpenAPI description.
    pub fn definitions(&self) -> &[TypeSystemDefinition] {
        &self.0
    }
}

/// The variables `query` (a request's query string) gives through
/// `parameters`; a message saying what is wrong with it otherwise.
pub fn variables(parameters: &[Parameter], query: &str) -> Result<Map<String, Value>, String> {
    let mut variables = Map::new();
    for (name, text) in url::form_urlencoded::parse(query.as_bytes()) {
        let Some(parameter) = parameters.iter().find(|p| p.name == name) else {
            let known: Vec<&str> = parameters.iter().map(|p| p.name.as_str()).collect();
            return Err(format!(
                "unknown parameter `{name}`; this route takes {}",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            ));
        };
        let value = parameter.read(&text)?;
        let slot = match parameter.field.split_last() {
            Some((last, parents)) => {
                let mut object = variables
                    .entry(parameter.variable)
                    .or_insert_with(|| Value::Object(Map::new()))
                    .as_object_mut()
                    .expect("an input variable is an object");
                for parent in parents {
                    object = object
                        .entry(parent.clone())
                        .or_insert_with(|| Value::Object(Map::new()))
                        .as_object_mut()
                        .expect("a nested input field is an object");
                }
                object.entry(last.clone())
            }
            None => variables.entry(parameter.variable),
        };
        match (slot, parameter.list) {
            (serde_json::map::Entry::Vacant(vacant), true) => {
                vacant.insert(Value::Array(vec![value]));
            }
            (serde_json::map::Entry::Vacant(vacant), false) => {
                vacant.insert(value);
            }
            (serde_json::map::Entry::Occupied(mut values), true) => {
                if let Some(values) = values.get_mut().as_array_mut() {
                    values.push(value);
                }
            }
            (serde_json::map::Entry::Occupied(_), false) => {
                return Err(format!("`{name}` is given more than once"));
            }
        }
    }
    if let Some(missing) = parameters
        .iter()
        .find(|p| p.required && p.field.is_empty() && !variables.contains_key(p.variable))
    {
        return Err(format!("`{}` is required", missing.name));
    }
    Ok(variables)
}

impl Parameter {
    /// The JSON value of `text` given for this parameter.
    fn read(&self, text: &str) -> Result<Value, String> {
        let name = &self.name;
        match &self.kind {
            Kind::String => Ok(Value::String(text.to_owned())),
            Kind::Int => text
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| format!("`{name}` takes a whole number, not `{text}`")),
            Kind::Boolean => match text {
                "true" => Ok(Value::Bool(true)),
                "false" => Ok(Value::Bool(false)),
                _ => Err(format!("`{name}` takes true or false, not `{text}`")),
            },
            Kind::Enum(values) => {
                if values.iter().any(|value| value == text) {
                    Ok(Value::String(text.to_owned()))
                } else {
                    Err(format!(
                        "`{name}` takes one of {}, not `{text}`",
                        values.join(", ")
                    ))
                }
            }
            Kind::IntOrString => Ok(text
                .parse::<i64>()
                .map_or_else(|_| Value::String(text.to_owned()), Value::from)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SDL: &str = r#"
        enum Status { ACTIVE ARCHIVED }
        input Users { atLeast: Int }
        input Filter { "Words." text: String  status: Status  season: Int  hasCode: Boolean  tags: [String!]  usedBy: Users }
        type Query { things(filter: Filter, "How many." first: Int, query: String!): Int }
    "#;

    fn parameters() -> Vec<Parameter> {
        let sdl = Sdl::parse(SDL);
        let mut parameters = sdl.input_fields("Filter", "filter");
        parameters.push(sdl.argument("things", "first"));
        parameters
    }

    #[test]
    fn parameters_fill_the_filter_and_the_arguments_with_their_types() {
        let variables = variables(
            &parameters(),
            "text=carte%20%C3%A9lectorale&status=ACTIVE&season=2&hasCode=true&tags=a&tags=b&usedBy.atLeast=3&first=5",
        )
        .unwrap();
        assert_eq!(
            Value::Object(variables),
            serde_json::json!({
                "filter": { "text": "carte électorale", "status": "ACTIVE", "season": 2,
                            "hasCode": true, "tags": ["a", "b"], "usedBy": { "atLeast": 3 } },
                "first": 5
            })
        );
        assert_eq!(parameters()[0].description, "Words.");
        assert_eq!(parameters()[5].name, "usedBy.atLeast");
        assert_eq!(parameters()[6].description, "How many.");
    }

    #[test]
    fn bad_parameters_are_refused_with_what_is_wrong() {
        for (query, message) in [
            ("colour=red", "unknown parameter `colour`"),
            ("status=active", "`status` takes one of ACTIVE, ARCHIVED"),
            ("season=two", "`season` takes a whole number"),
            ("hasCode=yes", "`hasCode` takes true or false"),
            ("text=a&text=b", "`text` is given more than once"),
        ] {
            let error = variables(&parameters(), query).unwrap_err();
            assert!(error.starts_with(message), "{query}: {error}");
        }
    }

    #[test]
    fn a_required_argument_must_be_given() {
        let sdl = Sdl::parse(SDL);
        let parameters = vec![sdl.argument("things", "query")];
        assert_eq!(
            variables(&parameters, "").unwrap_err(),
            "`query` is required"
        );
    }
}
