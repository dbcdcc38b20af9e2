//! What resolvers take from the request (the store, who is asking, the
//! request's DataLoader), and how a request is executed.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context as TaskContext, Poll, Wake, Waker};
use std::time::Duration;

use async_graphql::Context;
use async_graphql::dataloader::DataLoader;
use futures_util::future::BoxFuture;
use futures_util::stream::{BoxStream, StreamExt};

use crate::auth::Principal;
use crate::catalogue::Audience;
use crate::graphql::CatalogueSchema;
use crate::graphql::execution::documents::Prepared;
use crate::graphql::execution::errors::give_codes;
use crate::graphql::execution::key_order::order_like_selection;
use crate::graphql::plain::MergedObjects;
use crate::graphql::schema::loaders::CatalogueLoader;
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
/// Batches start in waves ([`InWaves`]), not after a fixed delay: a wave
/// starts when the execution has run out of work and no batch of the
/// previous wave is still loading, so every resolver that can ask for a
/// key has done so by then, however slow the machine, however the list
/// resolution yields, and whichever batch of a wave ends first. A request
/// costs as many statements as its selection has levels of each key type,
/// whatever the number of objects at each level (a page's projects,
/// `_entities`' representations of several types).
pub async fn execute(
    schema: &CatalogueSchema,
    prepared: Prepared,
    store: Store,
    principal: Principal,
) -> async_graphql::Response {
    let reads_model = !prepared.is_mutation();
    let Prepared { request, parsed } = prepared;
    let operation_name = request.operation_name.clone();
    let audience = principal.audience();
    let batches = Arc::new(Batches::default());
    let queue = Arc::clone(&batches);
    let loader = DataLoader::new(
        CatalogueLoader::new(store, audience, reads_model),
        move |batch| {
            queue.waiting().push(batch);
        },
    )
    .delay(Duration::ZERO);
    let mut request = request.data(audience).data(principal).data(loader);
    if parsed.merges_objects {
        request = request.data(MergedObjects);
    }
    let mut response = InWaves {
        execution: Box::pin(schema.execute(request)),
        batches,
        woken: Arc::new(AtomicBool::new(false)),
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

/// Executes the subscription `prepared` for `principal`: one response per
/// event, every error with its code. Its DataLoader keeps nothing between
/// events (each reads the catalogue as it is then) and starts each batch on
/// a task of its own.
pub fn execute_stream(
    schema: &CatalogueSchema,
    prepared: Prepared,
    store: Store,
    principal: Principal,
) -> BoxStream<'static, async_graphql::Response> {
    let audience = principal.audience();
    let loader = DataLoader::new(CatalogueLoader::new(store, audience, false), tokio::spawn);
    let request = prepared.request.data(audience).data(principal).data(loader);
    schema
        .execute_stream(request)
        .map(|mut response| {
            give_codes(&mut response);
            response
        })
        .boxed()
}

/// The DataLoader's batches of one request: those waiting for their wave,
/// how many of the current wave are still loading, and whom to wake when
/// the last of them ends.
#[derive(Default)]
struct Batches {
    waiting: Mutex<Vec<BoxFuture<'static, ()>>>,
    loading: AtomicUsize,
    execution: Mutex<Option<Waker>>,
}

impl Batches {
    fn waiting(&self) -> MutexGuard<'_, Vec<BoxFuture<'static, ()>>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts every waiting batch, each on a task of its own.
    fn start_wave(self: &Arc<Self>) {
        let wave = std::mem::take(&mut *self.waiting());
        self.loading.fetch_add(wave.len(), Ordering::AcqRel);
        for batch in wave {
            let loading = Loading(Arc::clone(self));
            tokio::spawn(async move {
                batch.await;
                drop(loading);
            });
        }
    }
}

/// One batch of the current wave, loading; when the last ends (or panics),
/// the execution is polled again to start the next wave.
struct Loading(Arc<Batches>);

impl Drop for Loading {
    fn drop(&mut self) {
        if self.0.loading.fetch_sub(1, Ordering::AcqRel) == 1 {
            let execution = self
                .0
                .execution
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(waker) = execution.as_ref() {
                waker.wake_by_ref();
            }
        }
    }
}

/// Runs an execution and starts its DataLoader's batches in waves: when a
/// poll leaves it idle (returns `Pending` without anything of it having
/// been woken meanwhile: a cooperative yield or a batch's answer wakes it)
/// and no batch is loading, the batches asked for so far start together.
struct InWaves<F> {
    execution: Pin<Box<F>>,
    batches: Arc<Batches>,
    /// Whether any waker given to the execution was used since the current
    /// poll began, whichever poll it was given in.
    woken: Arc<AtomicBool>,
}

impl<F: Future> Future for InWaves<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        {
            let mut execution = self
                .batches
                .execution
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if !execution.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *execution = Some(cx.waker().clone());
            }
        }
        self.woken.store(false, Ordering::Release);
        let waker = Waker::from(Arc::new(WakeWatch {
            inner: cx.waker().clone(),
            woken: Arc::clone(&self.woken),
        }));
        let outcome = self
            .execution
            .as_mut()
            .poll(&mut TaskContext::from_waker(&waker));
        if outcome.is_pending()
            && !self.woken.load(Ordering::Acquire)
            && self.batches.loading.load(Ordering::Acquire) == 0
        {
            self.batches.start_wave();
        }
        outcome
    }
}

/// A waker that records its use in a flag shared by all the wakers of
/// one execution.
struct WakeWatch {
    inner: Waker,
    woken: Arc<AtomicBool>,
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
