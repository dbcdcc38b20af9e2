//! What a delivery says: the change, shaped like a `Change` of the
//! `changes` feed (its cursor for the owner, time, kind, changed fields and
//! the global id of what changed; never the object itself, which a receiver
//! reads with its own rights), with the ids a receiver needs to tell
//! deliveries apart. When the journal no longer holds the changes that follow the
//! webhook's position (it was stopped longer than the journal is kept), a
//! delivery says so instead, and the receiver reads the lists again.

use chrono::SecondsFormat;
use serde_json::json;

use crate::graphql::{NodeType, encode_position, global_id};
use crate::store::{ChangedSubject, FeedPosition, RecordedChange};

/// The JSON body of the delivery `delivery_id` of `change` to webhook
/// `webhook_id`, whose owner reads the journal at `position` once they have it.
pub fn change_body(
    webhook_id: &str,
    delivery_id: &str,
    change: &RecordedChange,
    position: FeedPosition,
) -> String {
    let node_id = match change.subject {
        ChangedSubject::Project(id) => global_id(NodeType::Project, id),
        ChangedSubject::Organization(id) => global_id(NodeType::Organization, id),
    };
    json!({
        "webhookId": webhook_id,
        "deliveryId": delivery_id,
        "change": {
            "cursor": encode_position(position),
            "at": change.at.to_rfc3339_opts(SecondsFormat::Micros, true),
            "kind": change.kind.as_db(),
            "fields": change.fields.iter().map(|field| field.as_db()).collect::<Vec<_>>(),
            "nodeId": node_id.0,
        },
    })
    .to_string()
}

/// The body of a delivery saying that changes were missed: read the lists again.
pub fn resynchronise_body(webhook_id: &str, delivery_id: &str) -> String {
    json!({
        "webhookId": webhook_id,
        "deliveryId": delivery_id,
        "change": null,
        "resynchronise": true,
    })
    .to_string()
}
