//! What a delivery says: the change, shaped like an item of the `changes`
//! feed (its revision, time, kind, the object by its global id and type,
//! the changed fields), with the ids a receiver needs to tell deliveries
//! apart. When the journal no longer holds the changes that follow the
//! webhook's position (it was stopped longer than the journal is kept), a
//! delivery says so instead, and the receiver reads the lists again.

use chrono::SecondsFormat;
use serde_json::json;

use crate::graphql::{NodeType, global_id};
use crate::store::{ChangedSubject, RecordedChange};

/// The JSON body of the delivery `delivery_id` of `change` to webhook `webhook_id`.
pub fn change_body(webhook_id: &str, delivery_id: &str, change: &RecordedChange) -> String {
    let (typename, node_type, id) = match change.subject {
        ChangedSubject::Project(id) => ("Project", NodeType::Project, id),
        ChangedSubject::Organization(id) => ("Organization", NodeType::Organization, id),
    };
    json!({
        "webhookId": webhook_id,
        "deliveryId": delivery_id,
        "change": {
            "revision": change.revision,
            "at": change.at.to_rfc3339_opts(SecondsFormat::Micros, true),
            "kind": change.kind.as_db(),
            "node": { "__typename": typename, "id": global_id(node_type, id).0 },
            "fields": change.fields.iter().map(|field| field.as_db()).collect::<Vec<_>>(),
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
