//! Reading .debs from the blob store for their file lists and changelogs,
//! and recording what they hold by the .deb's SHA256.
//!
//! A sync reads the .debs it downloads into memory ([`Background`]), on
//! threads of low priority, as reprepro reads file lists when it includes a
//! package: the work lands in the background job, on cores the downloads
//! leave idle, and a publish with Contents and changelogs finds it
//! recorded. A publish reads whatever is still missing (large .debs,
//! merged snapshots, uploads, object stores) with [`read_and_record`].

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::db::{Db, DbError, Deflater, PackedScan};
use crate::debian::deb::DebError;
use crate::debian::deb_scan::{DebScan, ScanLimits, Want, scan_for};
use crate::digest::Sha256;
use crate::exit::ExitCode;
use crate::model::PackageRecord;
use crate::store::{BlobStore, StoreError};

/// .debs read at once.
const READERS: usize = 4;

/// Scans recorded in one transaction, at most: the rows' keys are random,
/// so each transaction dirties (and writes to the WAL) most of the tables'
/// pages; fewer, larger ones write less. Recording 60,000 small scans cost
/// 8.3 µs each in transactions of 4,096, 4.4 µs in ones of 16,384 and
/// 2.5 µs in one.
const BATCH: usize = 16_384;

/// Compressed bytes recorded in one transaction, at most (what a batch
/// holds in memory).
const BATCH_BYTES: usize = 8 << 20;

/// Why reading .debs stopped.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// A package's .deb could not be read for its file list or changelog.
    #[error("cannot read the .deb of `{package}`")]
    BadDeb {
        /// `name_version_arch`.
        package: String,
        /// Why.
        #[source]
        source: Box<DebError>,
    },
    /// Recording what was read failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The blob could not be had.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ExitCode for ScanError {
    fn exit_code(&self) -> u8 {
        match self {
            ScanError::BadDeb { .. } => crate::exit::VERIFICATION,
            ScanError::Db(e) => e.exit_code(),
            ScanError::Store(e) => e.exit_code(),
        }
    }
}

/// A .deb to read: its blob, and the package it holds (the changelog is
/// looked for under `usr/share/doc/<name>/`; errors name all three).
#[derive(Clone, Copy, Debug)]
pub(crate) struct DebRef<'a> {
    pub(crate) sha256: Sha256,
    pub(crate) name: &'a str,
    pub(crate) version: &'a str,
    pub(crate) architecture: &'a str,
}

impl<'a> DebRef<'a> {
    /// The .deb of a package record.
    pub(crate) fn of(r: &'a PackageRecord) -> Self {
        DebRef {
            sha256: r.sha256,
            name: &r.name,
            version: &r.version,
            architecture: &r.architecture,
        }
    }
}

/// What [`read_and_record`] found: whether each .deb read has a changelog,
/// and the .debs for which `on_read` said it used the text.
pub(crate) type Read = (HashMap<Sha256, bool>, HashSet<Sha256>);

/// Reads `debs` from the store, [`READERS`] at a time (the file list of
/// those not in `known`, none when it is `None`; the changelog of all), and records what they hold
/// as they come, a batch at a time. `on_read` sees each scan on its reader
/// thread (a publish writes the changelog there at once) and says whether
/// it used the text. The first error stops the readers and is returned.
///
/// Each reader compresses what it found as stored, so the one thread that
/// writes the database only inserts. Recording as they come keeps memory
/// flat: a scan's decoders churn tens of kilobytes each while its few small
/// results stay, and holding all results to the end fragmented the heap to
/// about 48 KB per .deb (2.9 GB of RSS for 60,000 .debs).
pub(crate) fn read_and_record<E>(
    db: &mut Db,
    store: &BlobStore,
    debs: &[DebRef<'_>],
    known: Option<&HashSet<Sha256>>,
    on_read: &(dyn Fn(&DebRef<'_>, &DebScan) -> Result<bool, E> + Sync),
) -> Result<Read, E>
where
    E: From<ScanError> + Send,
{
    if debs.is_empty() {
        return Ok((HashMap::new(), HashSet::new()));
    }
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let limits = ScanLimits::default();
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Scanned, E>>(READERS * 16);
    std::thread::scope(|s| {
        for _ in 0..READERS.min(debs.len()) {
            let tx = tx.clone();
            let (next, failed, limits) = (&next, &failed, &limits);
            s.spawn(move || {
                let mut deflater = Deflater::new();
                while !failed.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(deb) = debs.get(i) else { break };
                    let lacks_list = known.is_some_and(|k| !k.contains(&deb.sha256));
                    let want = match lacks_list {
                        true => Want::Everything,
                        false => Want::Changelog,
                    };
                    let scanned = read_deb(store, deb, limits, want)
                        .map_err(E::from)
                        .and_then(|scan| {
                            let used = on_read(deb, &scan)?;
                            let packed = PackedScan {
                                sha256: deb.sha256,
                                files: lacks_list
                                    .then(|| deflater.deflate(scan.files.join("\n").as_bytes())),
                                changelog: scan.changelog.map(|t| deflater.deflate(&t)),
                            };
                            Ok((packed, used))
                        });
                    if scanned.is_err() {
                        failed.store(true, Ordering::Relaxed);
                    }
                    if tx.send(scanned).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        // `rx` goes with the call: a reader blocked on a full channel is
        // released when recording stops early.
        let result = record_as_read(db, rx.into_iter());
        if result.is_err() {
            // The readers stop at their next .deb.
            failed.store(true, Ordering::Relaxed);
        }
        result
    })
}

/// A reader's result: what to record, and whether `on_read` used the text.
type Scanned = (PackedScan, bool);

/// Records scans as they arrive, in transactions of [`BATCH`] scans or
/// [`BATCH_BYTES`], with SQLite's automatic checkpoints held off until
/// the last (see [`Db::auto_checkpoints`]); the first error ends it.
fn record_as_read<E: From<ScanError>>(
    db: &mut Db,
    scans: impl Iterator<Item = Result<Scanned, E>>,
) -> Result<Read, E> {
    let off = |e: DbError| E::from(ScanError::Db(e));
    db.auto_checkpoints(false).map_err(off)?;
    let recorded = record_batches(db, scans);
    // Restarted whatever happened; the recording's own error, if any, wins.
    let restarted = db.auto_checkpoints(true);
    let recorded = recorded?;
    restarted.map_err(off)?;
    Ok(recorded)
}

fn record_batches<E: From<ScanError>>(
    db: &mut Db,
    scans: impl Iterator<Item = Result<Scanned, E>>,
) -> Result<Read, E> {
    let record = |db: &mut Db, batch: &mut Vec<PackedScan>| {
        db.record_deb_scans(batch)
            .map_err(|e| E::from(ScanError::Db(e)))
    };
    let mut batch: Vec<PackedScan> = Vec::new();
    let (mut read, mut used, mut bytes) = (HashMap::new(), HashSet::new(), 0);
    let started = std::time::Instant::now();
    for scanned in scans {
        let (scan, text_used) = scanned?;
        read.insert(scan.sha256, scan.changelog.is_some());
        if text_used {
            used.insert(scan.sha256);
        }
        bytes += scan.size();
        batch.push(scan);
        if batch.len() >= BATCH || bytes >= BATCH_BYTES {
            record(db, &mut batch)?;
            batch.clear();
            bytes = 0;
        }
    }
    record(db, &mut batch)?;
    tracing::debug!(elapsed = ?started.elapsed(), "scans recorded");
    Ok((read, used))
}

/// One .deb's scan, from its local blob or a temporary copy of a remote one.
pub(crate) fn read_deb(
    store: &BlobStore,
    deb: &DebRef<'_>,
    limits: &ScanLimits,
    want: Want,
) -> Result<DebScan, ScanError> {
    let package = format!("{}_{}_{}", deb.name, deb.version, deb.architecture);
    let (path, temp) = match store.local_path(&deb.sha256) {
        Some(p) => (p, None),
        None => {
            let p = store.staging_path(None)?;
            store.fetch_to(&deb.sha256, &p)?;
            (p.clone(), Some(p))
        }
    };
    let result = scan_file(&path, deb.name, limits, want).map_err(|source| ScanError::BadDeb {
        package,
        source: Box::new(source),
    });
    if let Some(t) = temp {
        let _ = std::fs::remove_file(t);
    }
    result
}

fn scan_file(
    path: &Path,
    name: &str,
    limits: &ScanLimits,
    want: Want,
) -> Result<DebScan, DebError> {
    let read_err = |source| DebError::Read {
        member: path.display().to_string(),
        offset: 0,
        source,
    };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let len = file.metadata().map_err(read_err)?.len();
    scan_for(
        std::io::BufReader::with_capacity(64 * 1024, file),
        len,
        name,
        limits,
        want,
    )
}

/// A .deb handed over in memory, with what it holds.
type Offered = (Sha256, Vec<u8>);

/// Reads .debs handed over in memory (a sync's small downloads, just
/// verified) on threads of its own while the caller goes on downloading,
/// and records what they hold through a database connection of its own.
///
/// It only saves later work: an offer finding the queue full (by bytes:
/// [`BACKGROUND_BYTES`]) is dropped, so downloads never wait for it, and a
/// .deb it cannot read is left out;
/// whatever it did not record the publish reads from the store
/// ([`read_and_record`]), where trouble is reported.
pub(crate) struct Background {
    /// The package name of each .deb to read (its changelog is under
    /// `usr/share/doc/<name>/`).
    wanted: std::sync::Arc<HashMap<Sha256, String>>,
    tx: Option<std::sync::mpsc::Sender<Offered>>,
    /// Bytes offered and not yet taken by a reader.
    queued: std::sync::Arc<AtomicUsize>,
    threads: Vec<std::thread::JoinHandle<()>>,
    recorder: Option<std::thread::JoinHandle<Result<usize, ScanError>>>,
}

/// Threads reading offered .debs.
const BACKGROUND_READERS: usize = 2;

/// Bytes of offers queued at most. Bounded by bytes, not offers: a sync
/// of small .debs outruns readers that share its cores for a while (their
/// priority is lower), and a queue of 64 offers dropped a third of them.
const BACKGROUND_BYTES: usize = 4 << 20;

/// Scans read and waiting to be recorded, at most.
const BACKGROUND_DONE: usize = 256;

impl Background {
    /// Starts reading the .debs of `wanted` (blob → package name) as they
    /// are offered for what `want` says, recording into the database at
    /// `db_path`.
    pub(crate) fn start(
        db_path: &Path,
        wanted: HashMap<Sha256, String>,
        want: Want,
    ) -> Result<Self, ScanError> {
        let mut db = Db::open(db_path)?;
        let (tx, rx) = std::sync::mpsc::channel::<Offered>();
        let queued = std::sync::Arc::new(AtomicUsize::new(0));
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        let (done_tx, done_rx) = std::sync::mpsc::sync_channel::<PackedScan>(BACKGROUND_DONE);
        let wanted = std::sync::Arc::new(wanted);
        let threads = (0..BACKGROUND_READERS)
            .map(|_| {
                let (rx, done_tx, names) = (rx.clone(), done_tx.clone(), wanted.clone());
                let queued = queued.clone();
                std::thread::spawn(move || {
                    crate::runtime::lower_thread_priority();
                    background_reader(&rx, &queued, &done_tx, &names, want)
                })
            })
            .collect();
        drop(done_tx);
        let recorder = std::thread::spawn(move || {
            crate::runtime::lower_thread_priority();
            let scans = done_rx.into_iter().map(|s| Ok::<_, ScanError>((s, false)));
            record_as_read(&mut db, scans).map(|(read, _)| read.len())
        });
        Ok(Background {
            wanted,
            tx: Some(tx),
            queued,
            threads,
            recorder: Some(recorder),
        })
    }

    /// Hands over the verified bytes of the blob `sha256`, read if its
    /// package is wanted and the queue has room for them.
    pub(crate) fn offer(&self, sha256: &Sha256, data: Vec<u8>) {
        let len = data.len();
        let Some(tx) = &self.tx else { return };
        if !self.wanted.contains_key(sha256) {
            return;
        }
        if self.queued.fetch_add(len, Ordering::Relaxed) + len > BACKGROUND_BYTES {
            self.queued.fetch_sub(len, Ordering::Relaxed);
            return;
        }
        if tx.send((*sha256, data)).is_err() {
            self.queued.fetch_sub(len, Ordering::Relaxed);
        }
    }

    /// Reads what is queued, records it, and says how many .debs were
    /// recorded.
    pub(crate) fn finish(mut self) -> Result<usize, ScanError> {
        self.tx = None;
        for t in self.threads.drain(..) {
            if let Err(p) = t.join() {
                std::panic::resume_unwind(p);
            }
        }
        match self.recorder.take().map(|r| r.join()) {
            Some(Ok(recorded)) => recorded,
            Some(Err(p)) => std::panic::resume_unwind(p),
            None => Ok(0),
        }
    }
}

/// One [`Background`] reader: scans what is offered until the offers end.
fn background_reader(
    rx: &std::sync::Mutex<std::sync::mpsc::Receiver<Offered>>,
    queued: &AtomicUsize,
    done: &std::sync::mpsc::SyncSender<PackedScan>,
    names: &HashMap<Sha256, String>,
    want: Want,
) {
    let limits = ScanLimits::default();
    let mut deflater = Deflater::new();
    loop {
        let next = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
        let Ok((sha256, data)) = next else { return };
        queued.fetch_sub(data.len(), Ordering::Relaxed);
        let Some(name) = names.get(&sha256) else {
            continue;
        };
        let Ok(scan) = scan_for(&data[..], data.len() as u64, name, &limits, want) else {
            continue;
        };
        let packed = PackedScan {
            sha256,
            files: (want == Want::Everything)
                .then(|| deflater.deflate(scan.files.join("\n").as_bytes())),
            changelog: scan.changelog.map(|t| deflater.deflate(&t)),
        };
        if done.send(packed).is_err() {
            return;
        }
    }
}
