//! Collectors: the best-ranked hits of a page with the total count, and the
//! facet counts of every matching document.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::schema::Field;
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

use super::documents::HitKey;

/// A matching document and where it ranks.
#[derive(Debug, Clone, Copy)]
pub struct Ranked {
    pub score: Score,
    pub key: HitKey,
    pub address: DocAddress,
}

impl Ranked {
    /// `Less` when `self` comes first: higher score, then smaller key.
    fn rank_order(&self, other: &Self) -> Ordering {
        other
            .score
            .total_cmp(&self.score)
            .then(self.key.cmp(&other.key))
    }
}

/// In a max-heap, the hit that ranks last is on top, ready to be dropped.
struct LastOnTop(Ranked);

impl PartialEq for LastOnTop {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for LastOnTop {}
impl PartialOrd for LastOnTop {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for LastOnTop {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.rank_order(&other.0)
    }
}

/// The first `keep` hits in rank order, and how many documents matched.
pub struct TopHits {
    pub keep: usize,
    pub key_field: &'static str,
}

pub struct TopHitsFruit {
    pub total: u64,
    pub hits: Vec<Ranked>,
}

pub struct SegmentTopHits {
    keep: usize,
    segment: SegmentOrdinal,
    keys: Column<u64>,
    total: u64,
    heap: BinaryHeap<LastOnTop>,
}

impl Collector for TopHits {
    type Fruit = TopHitsFruit;
    type Child = SegmentTopHits;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentTopHits> {
        Ok(SegmentTopHits {
            keep: self.keep,
            segment,
            keys: reader.fast_fields().u64(self.key_field)?,
            total: 0,
            heap: BinaryHeap::with_capacity(self.keep.min(1024) + 1),
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<TopHitsFruit>) -> tantivy::Result<TopHitsFruit> {
        let total = fruits.iter().map(|f| f.total).sum();
        let mut hits: Vec<Ranked> = fruits.into_iter().flat_map(|f| f.hits).collect();
        hits.sort_by(Ranked::rank_order);
        hits.truncate(self.keep);
        Ok(TopHitsFruit { total, hits })
    }
}

impl SegmentCollector for SegmentTopHits {
    type Fruit = TopHitsFruit;

    fn collect(&mut self, doc: DocId, score: Score) {
        self.total += 1;
        if self.keep == 0 {
            return;
        }
        let hit = Ranked {
            score,
            key: HitKey(self.keys.first(doc).unwrap_or_default()),
            address: DocAddress::new(self.segment, doc),
        };
        if self.heap.len() == self.keep {
            match self.heap.peek() {
                Some(last) if hit.rank_order(&last.0) == Ordering::Less => {
                    self.heap.pop();
                }
                _ => return,
            }
        }
        self.heap.push(LastOnTop(hit));
    }

    fn harvest(self) -> TopHitsFruit {
        TopHitsFruit {
            total: self.total,
            hits: self.heap.into_iter().map(|hit| hit.0).collect(),
        }
    }
}

/// How many matching documents carry each value of each facet column.
pub struct FacetCounts {
    /// The facet columns' names, in the order of the fruit.
    pub columns: Vec<String>,
}

/// For each column, value (with its label) → number of documents.
pub type FacetFruit = Vec<HashMap<String, u64>>;

pub struct SegmentFacetCounts {
    columns: Vec<Option<(StrColumn, Vec<u64>)>>,
}

impl FacetCounts {
    pub fn new(fields: &[Field], schema: &tantivy::schema::Schema) -> Self {
        Self {
            columns: fields
                .iter()
                .map(|field| schema.get_field_name(*field).to_owned())
                .collect(),
        }
    }
}

impl Collector for FacetCounts {
    type Fruit = FacetFruit;
    type Child = SegmentFacetCounts;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentFacetCounts> {
        let mut columns = Vec::with_capacity(self.columns.len());
        for name in &self.columns {
            columns.push(reader.fast_fields().str(name)?.map(|column| {
                let terms = column.num_terms();
                (column, vec![0; terms])
            }));
        }
        Ok(SegmentFacetCounts { columns })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<FacetFruit>) -> tantivy::Result<FacetFruit> {
        let mut merged: FacetFruit = vec![HashMap::new(); self.columns.len()];
        for fruit in fruits {
            for (total, counts) in merged.iter_mut().zip(fruit) {
                for (value, count) in counts {
                    *total.entry(value).or_default() += count;
                }
            }
        }
        Ok(merged)
    }
}

impl SegmentCollector for SegmentFacetCounts {
    type Fruit = FacetFruit;

    fn collect(&mut self, doc: DocId, _score: Score) {
        for (column, counts) in self.columns.iter_mut().flatten() {
            for ord in column.term_ords(doc) {
                if let Some(count) = usize::try_from(ord).ok().and_then(|o| counts.get_mut(o)) {
                    *count += 1;
                }
            }
        }
    }

    fn harvest(self) -> FacetFruit {
        self.columns
            .into_iter()
            .map(|column| {
                let mut values = HashMap::new();
                if let Some((column, counts)) = column {
                    for (ord, count) in counts.into_iter().enumerate() {
                        let mut value = String::new();
                        if count > 0 && column.ord_to_str(ord as u64, &mut value).unwrap_or(false) {
                            values.insert(value, count);
                        }
                    }
                }
                values
            })
            .collect()
    }
}
