//! What resolvers take from the request (the store, who is asking, the
//! request's DataLoader), and how a request is executed.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context as TaskContext, Poll, Wake, Waker};
use std::time::Duration;

use async_graphql::Context;
use async_graphql::dataloader::DataLoader;
use tokio::sync::watch;

use super::CatalogueSchema;
use super::documents::Prepared;
use super::errors::give_codes;
use super::key_order::order_like_selection;
use super::loaders::CatalogueLoader;
use super::plain::MergedObjects;
use crate::auth::Principal;
use crate::catalogue::Audience;
use crate::store::Store;

pub fn store<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Store> {
    ctx.data::<Store>()
}

/// Who the answer is for; a request that does not say is answered as for anyone.
pub fn audience(ctx: &Context<'_>) -> Audience {
    ctx.data_opt::<Audience>()
        .copied()
        .unwrap_or(Audience::Public)
}

/// Who is asking; a request that does not say is anonymous.
pub fn principal<'a>(ctx: &Context<'a>) -> Option<&'a Principal> {
    ctx.data_opt::<Principal>()
}

pub fn loader<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a DataLoader<CatalogueLoader>> {
    ctx.data::<DataLoader<CatalogueLoader>>()
}

/// Executes `prepared` for `principal` with a DataLoader of its own: rows
/// are batched within the request and never shared between requests (or
/// between callers who may see different things). Every error of the
/// answer has a code, and its keys come in the order the operation asked
/// for them.
///
/// A batch starts when the execution has run out of work (its poll returned
/// `Pending` without waking itself), not after a fixed delay: every resolver
/// that can ask for a key has done so by then, however slow the machine and
/// however the list resolution yields, so a page costs the same number of
/// statements whatever its size.
pub async fn execute(
    schema: &CatalogueSchema,
    prepared: Prepared,
    store: Store,
    principal: Principal,
) -> async_graphql::Response {
    let Prepared { request, parsed } = prepared;
    let operation_name = request.operation_name.clone();
    let audience = principal.audience();
    let (passes, _) = watch::channel(0u64);
    let passes = Arc::new(passes);
    let spawner_passes = Arc::clone(&passes);
    let loader = DataLoader::new(CatalogueLoader { store, audience }, move |batch| {
        let mut finished = spawner_passes.subscribe();
        let current = *finished.borrow_and_update();
        tokio::spawn(async move {
            // Err means the request is over: nobody waits for the batch any more.
            let _ = finished.wait_for(|pass| *pass > current).await;
            batch.await;
        })
    })
    .delay(Duration::ZERO);
    let mut request = request.data(audience).data(principal).data(loader);
    if parsed.merges_objects {
        request = request.data(MergedObjects);
    }
    let mut response = CountingPasses {
        execution: Box::pin(schema.execute(request)),
        passes,
    }
    .await;
    give_codes(&mut response);
    order_like_selection(
        &mut response.data,
        &parsed.document,
        operation_name.as_deref(),
    );
    response
}

/// Counts the times an execution went idle: returned `Pending` without
/// having been woken during the poll (a cooperative yield wakes itself and
/// is not idle), or finished.
struct CountingPasses<F> {
    execution: Pin<Box<F>>,
    passes: Arc<watch::Sender<u64>>,
}

impl<F: Future> Future for CountingPasses<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let watched = Arc::new(WakeWatch {
            inner: cx.waker().clone(),
            woken: AtomicBool::new(false),
        });
        let waker = Waker::from(Arc::clone(&watched));
        let outcome = self
            .execution
            .as_mut()
            .poll(&mut TaskContext::from_waker(&waker));
        if outcome.is_ready() || !watched.woken.load(Ordering::Acquire) {
            self.passes.send_modify(|pass| *pass += 1);
        }
        outcome
    }
}

/// A waker that remembers whether it was used.
struct WakeWatch {
    inner: Waker,
    woken: AtomicBool,
}

impl Wake for WakeWatch {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.inner.wake_by_ref();
    }
}
