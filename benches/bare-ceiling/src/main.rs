//! The ceiling the gateway is measured against (`make bench`): async-graphql
//! on poem with nothing else, answering a constant. What a cached answer
//! through the gateway can at best approach on the same machine.
//!
//! `bare-ceiling [ADDRESS]` serves `POST /graphql` on ADDRESS (default
//! 127.0.0.1:18082) until killed.

use async_graphql::{EmptyMutation, EmptySubscription, Object, Schema};
use async_graphql_poem::GraphQL;
use poem::listener::TcpListener;
use poem::{Route, Server, post};

// The gateway's allocator, so the ceiling is not lower for want of it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Query;

#[Object]
impl Query {
    /// The constant every request gets.
    async fn hello(&self) -> &'static str {
        "bonjour"
    }
}

fn app() -> Route {
    let schema = Schema::new(Query, EmptyMutation, EmptySubscription);
    Route::new().at("/graphql", post(GraphQL::new(schema)))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18082".to_owned());
    Server::new(TcpListener::bind(address)).run(app()).await
}

#[cfg(test)]
mod tests {
    use poem::listener::{Acceptor, Listener};

    use super::*;

    #[tokio::test]
    async fn answers_the_constant() {
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .unwrap();
        let address = *acceptor.local_addr()[0].as_socket_addr().unwrap();
        tokio::spawn(Server::new_with_acceptor(acceptor).run(app()));
        let answer = reqwest::Client::new()
            .post(format!("http://{address}/graphql"))
            .json(&serde_json::json!({ "query": "{ hello }" }))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(answer, r#"{"data":{"hello":"bonjour"}}"#);
    }
}
