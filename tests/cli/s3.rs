//! Blobs and publications in S3-compatible object storage (the test run's
//! SeaweedFS, `tests/s3-server.sh`): sync, publish, gc and drop against a
//! real bucket, looked into behind debvault's back.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use crate::support::{Pkg, Repo, TestBucket, TestEnv, json};

fn publish(env: &TestEnv, snapshot: &str) -> serde_json::Value {
    json(&env.ok(&[
        "--json",
        "snapshot",
        "publish",
        snapshot,
        "--distribution",
        "stable",
    ]))
}

/// A world in the test bucket with an upstream of `app` 1.0 and `libfoo`
/// 1.3-1, mirrored as `m` and synced once.
fn synced_in_a_bucket() -> (TestEnv, TestBucket, Pkg, Pkg, Repo) {
    let env = TestEnv::new_s3();
    let bucket = env.s3.as_ref().unwrap().bucket();
    let (app, old) = (Pkg::new("app", "1.0"), Pkg::new("libfoo", "1.3-1"));
    let repo = Repo::new(vec![app.clone(), old.clone()]);
    env.publish_upstream(&repo);
    env.create_mirror("m", &[]);
    env.ok(&["mirror", "sync", "m"]);
    (env, bucket, app, old, repo)
}

#[test]
fn sync_publish_gc_and_drop_in_a_bucket() {
    let (env, bucket, app, old, mut repo) = synced_in_a_bucket();
    let blobs = bucket.keys("blobs");
    for p in [&app, &old] {
        let hex = p.sha256().to_string();
        let key = format!("sha256/{}/{hex}", &hex[..2]);
        assert!(blobs.contains(&key), "{key} not in {blobs:?}");
        assert_eq!(bucket.get(&format!("blobs/{key}")).unwrap(), p.deb());
    }
    assert!(
        crate::support::tree(&env.root().join("blobs")).is_empty(),
        "blobs staged locally stay behind"
    );

    // Another object squats app's pool path: app goes to a hash-qualified
    // path and the squatter is left alone (pool paths are write-once).
    let squat = format!("public/{}", app.pool_path());
    bucket.put(&squat, b"not the package");
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    env.ok(&["snapshot", "create", "s1", "--from-mirror", "m"]);
    let v = publish(&env, "s1");
    assert_eq!(
        (
            v["outcome"].as_str(),
            v["pool_added"].as_u64(),
            v["pool_qualified"].as_u64()
        ),
        (Some("published"), Some(2), Some(1)),
        "{v}"
    );
    assert_eq!(bucket.get(&squat).unwrap(), b"not the package");
    let dist = bucket.keys("public/dists/stable");
    for name in [
        "InRelease",
        "Release",
        "Release.gpg",
        "main/binary-amd64/Packages.xz",
    ] {
        assert!(dist.iter().any(|k| k == name), "{name} not in {dist:?}");
    }
    let packages = String::from_utf8(
        bucket
            .get("public/dists/stable/main/binary-amd64/Packages")
            .unwrap(),
    )
    .unwrap();
    let app_path = packages
        .lines()
        .find_map(|l| l.strip_prefix("Filename: ").filter(|f| f.contains("/app_")))
        .unwrap();
    assert!(app_path.contains("/sha256-"), "{app_path}");
    assert_eq!(
        bucket.get(&format!("public/{app_path}")).unwrap(),
        app.deb()
    );

    // The same publish again reads one object.
    let v = publish(&env, "s1");
    assert_eq!(v["outcome"], "unchanged", "{v}");
    assert!(v["s3_requests"].as_u64().unwrap() <= 5, "{v}");

    // Upstream upgrades libfoo: the switch uploads only the new package.
    let new = Pkg::new("libfoo", "1.4-1");
    repo.packages[1] = new.clone();
    repo.date = chrono::Utc::now() + chrono::Duration::seconds(5);
    env.publish_upstream(&repo);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["snapshot", "create", "s2", "--from-mirror", "m"]);
    let v = publish(&env, "s2");
    assert_eq!(
        (v["pool_added"].as_u64(), v["pool_present"].as_u64()),
        (Some(1), Some(1)),
        "{v}"
    );
    let old_pool = format!("public/{}", old.pool_path());
    assert!(
        bucket.get(&old_pool).is_some(),
        "kept for clients mid-update"
    );

    // gc: the old pool object and the replaced indices' by-hash files go;
    // the squatter (not debvault's) and everything s2 uses stay; the old
    // revision keeps its blob within the retention period.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let v = json(&env.ok(&["--json", "gc", "--grace", "0s"]));
    assert_eq!(
        (v["pool_files"].as_u64(), v["blobs"].as_u64()),
        (Some(1), Some(0)),
        "{v}"
    );
    assert!(v["by_hash_files"].as_u64().unwrap() >= 1, "{v}");
    // The index cache (in the data root for a bucket endpoint) keeps only
    // what s2's indices use.
    assert!(v["index_cache_files"].as_u64().unwrap() >= 1, "{v}");
    let cached = crate::support::tree(&env.root().join("tmp/index-cache"));
    let digests: std::collections::BTreeSet<&str> = cached
        .iter()
        .map(|(name, _)| name.split('.').next().unwrap())
        .collect();
    assert_eq!(
        digests.len(),
        2,
        "only s2's Packages and Contents: {cached:?}"
    );
    assert!(bucket.get(&old_pool).is_none());
    assert!(bucket.get(&squat).is_some());
    assert!(bucket.get(&format!("public/{}", new.pool_path())).is_some());
    let by_hash = bucket
        .keys("public/dists/stable")
        .into_iter()
        .filter(|k| k.contains("/by-hash/"))
        .count();
    assert_eq!(by_hash, 5, "Packages, .gz and .xz, Contents and .gz of s2");

    // Without s1 and with a zero retention, libfoo 1.3-1's blob goes too.
    env.ok(&["snapshot", "drop", "s1"]);
    std::fs::write(
        env.root().join("config.toml"),
        format!(
            "{}[gc]\nretention-days = 0\n",
            std::fs::read_to_string(env.root().join("config.toml")).unwrap()
        ),
    )
    .unwrap();
    let v = json(&env.ok(&["--json", "gc", "--grace", "0s"]));
    assert_eq!(v["blobs"], 1, "{v}");
    let hex = old.sha256().to_string();
    assert!(
        bucket
            .get(&format!("blobs/sha256/{}/{hex}", &hex[..2]))
            .is_none()
    );

    // Dropping the publication removes its distribution from the bucket.
    env.ok(&["publish", "drop", "stable"]);
    assert_eq!(bucket.keys("public/dists/stable"), Vec::<String>::new());
}

#[test]
fn bad_credentials_name_the_location_and_change_nothing() {
    let mut env = TestEnv::new_s3();
    let repo = Repo::new(vec![Pkg::new("app", "1.0")]);
    env.publish_upstream(&repo);
    env.create_mirror("m", &[]);
    if let Some(place) = env.s3.as_mut() {
        place.server.secret_key = "wrong".into();
    }
    let out = env.run(&["mirror", "sync", "m"]);
    assert_eq!(out.code, 1, "{}", out.transcript());
    let url = env.s3.as_ref().unwrap().url("blobs");
    assert!(
        out.stderr.contains("object storage: cannot") && out.stderr.contains(&url),
        "{}",
        out.transcript()
    );
    let v = json(&env.ok(&["--json", "mirror", "show", "m"]));
    assert!(v["last_sync_at"].is_null(), "{v}");
}

/// Files past the single-PUT size (16 MiB) go up in parts and come back whole.
#[test]
fn large_files_upload_in_parts() {
    let env = TestEnv::new_s3();
    let bucket = env.s3.as_ref().unwrap().bucket();
    let data: Vec<u8> = (0u32..(20 << 20))
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let file = env.dir.path().join("big");
    std::fs::write(&file, &data).unwrap();
    bucket.put_file("big/object", &file);
    let back = bucket.get("big/object").unwrap();
    assert_eq!(back.len(), data.len());
    assert!(back == data, "the object differs from the file");
}

/// A listing split in ranges (issue 16: a publish lists the pool in 16
/// ranges at once) finds every key exactly once, in order, whether the
/// splits are keys that exist or not, and across the server's pages.
#[test]
fn a_split_listing_finds_every_key_once() {
    let env = TestEnv::new_s3();
    let bucket = env.s3.as_ref().unwrap().bucket();
    let mut keys: Vec<String> = (0..1100)
        .map(|i| format!("pool/main/p/p{:04}/p{:04}_1_all.deb", i * 7 % 1100, i))
        .collect();
    keys.sort();
    for key in &keys {
        bucket.put(key, b"x");
    }
    bucket.put("other/outside", b"x");
    let below: Vec<String> = keys
        .iter()
        .map(|k| k.strip_prefix("pool/").unwrap().to_owned())
        .collect();
    assert_eq!(bucket.keys("pool"), below);
    let cases: Vec<Vec<String>> = vec![
        Vec::new(),
        vec![below[0].clone()],
        vec![below[1099].clone()],
        // Existing keys, a key between two, one before all and one after all.
        vec![
            "a".to_owned(),
            below[10].clone(),
            format!("{}x", below[500]),
            below[1050].clone(),
            "zz".to_owned(),
        ],
    ];
    for splits in cases {
        for concurrency in [1, 4] {
            assert_eq!(
                bucket.keys_split("pool", &splits, concurrency),
                below,
                "splits {splits:?}"
            );
        }
    }
}

/// `serve` on a bucket endpoint: HEAD, byte ranges (206, 416) and 404s,
/// streamed from the bucket.
#[test]
fn serve_answers_heads_and_ranges_from_the_bucket() {
    let env = TestEnv::new_s3();
    let app = Pkg::new("app", "1.0");
    env.publish_upstream(&Repo::new(vec![app.clone()]));
    env.create_mirror("m", &[]);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    env.ok(&["snapshot", "create", "s1", "--from-mirror", "m"]);
    publish(&env, "s1");
    let serve = crate::support::apt::Serve::start(&env);
    let deb = app.deb();
    let url = format!("{}{}", serve.url(), app.pool_path());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = reqwest::Client::new();
        let r = c.head(&url).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.headers()["content-length"].to_str().unwrap(),
            deb.len().to_string()
        );
        assert!(
            r.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
        let r = c
            .get(&url)
            .header("range", "bytes=10-19")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 206);
        assert_eq!(
            r.headers()["content-range"].to_str().unwrap(),
            format!("bytes 10-19/{}", deb.len())
        );
        assert_eq!(r.bytes().await.unwrap().as_ref(), &deb[10..20]);
        let past = format!("bytes={}-", deb.len() + 5);
        let r = c.get(&url).header("range", past).send().await.unwrap();
        assert_eq!(r.status(), 416);
        for missing in ["pool/main/n/nope/nope.deb", ".debvault/x", "dists/stable/"] {
            let r = c
                .get(format!("{}{missing}", serve.url()))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 404, "{missing}");
        }
    });
}

/// Blobs in the bucket, publications on the local disk: pool files are
/// copies of the objects, with no inode to compare. The pool ledger spares
/// later publishes from reading them again; a pool file rewritten in place
/// (same size) is read once, found different, and left alone while its
/// package goes to a hash-qualified path.
#[test]
fn a_local_publish_of_bucket_blobs_reads_its_pool_files_once() {
    let env = TestEnv::new_s3();
    let blobs = env.s3.as_ref().unwrap().url("blobs");
    std::fs::write(
        env.root().join("config.toml"),
        format!("[storage]\nblobs = \"{blobs}\"\n"),
    )
    .unwrap();
    let (app, lib) = (Pkg::new("app", "1.0"), Pkg::new("libfoo", "1.3-1"));
    env.publish_upstream(&Repo::new(vec![app.clone(), lib.clone()]));
    env.create_mirror("m", &[]);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    env.ok(&["snapshot", "create", "s1", "--from-mirror", "m"]);
    let publish_as = |distribution: &str| {
        let v = json(&env.ok(&[
            "--json",
            "snapshot",
            "publish",
            "s1",
            "--distribution",
            distribution,
        ]));
        [
            "pool_added",
            "pool_present",
            "pool_hashed",
            "pool_qualified",
        ]
        .map(|k| v[k].as_u64().unwrap())
    };
    assert_eq!(publish_as("one"), [2, 0, 0, 0]);
    let pool = env.root().join("public").join(app.pool_path());
    assert_eq!(std::fs::read(&pool).unwrap(), app.deb());
    assert_eq!(publish_as("two"), [0, 2, 0, 0], "known files are not read");

    let mut other = app.deb();
    other[0] ^= 0xff;
    std::fs::write(&pool, &other).unwrap();
    assert_eq!(
        publish_as("three"),
        [1, 1, 1, 1],
        "the changed file is read"
    );
    assert_eq!(std::fs::read(&pool).unwrap(), other, "and left alone");
    assert_eq!(
        publish_as("four"),
        [0, 2, 0, 1],
        "nor is a known other file"
    );
    env.ok(&["verify"]);
}

/// Within a day of listing its pool whole, a publish to a bucket trusts the
/// database's record of what it wrote there and asks the bucket only about
/// the paths the record does not know (a `HEAD` each): an object put there
/// behind debvault's back is still found and left alone. A day on, the
/// publish lists the pool again, and what went missing is written back.
#[test]
fn a_publish_lists_the_pool_once_a_day_and_asks_about_the_rest() {
    let (env, bucket, app, _, mut repo) = synced_in_a_bucket();
    env.ok(&["key", "generate", "--email", "ops@example.invalid"]);
    env.ok(&["snapshot", "create", "s1", "--from-mirror", "m"]);
    let pool = |v: &serde_json::Value| {
        ["pool_added", "pool_present", "pool_qualified"].map(|k| v[k].as_u64().unwrap())
    };
    assert_eq!(pool(&publish(&env, "s1")), [2, 0, 0]);

    // libfoo 1.4-1's plain pool path, taken after the listing.
    let new = Pkg::new("libfoo", "1.4-1");
    let squat = format!("public/{}", new.pool_path());
    bucket.put(&squat, b"not the package");
    repo.packages[1] = new.clone();
    repo.date = chrono::Utc::now() + chrono::Duration::seconds(5);
    env.publish_upstream(&repo);
    env.ok(&["mirror", "sync", "m"]);
    env.ok(&["snapshot", "create", "s2", "--from-mirror", "m"]);
    let v = publish(&env, "s2");
    assert_eq!(pool(&v), [1, 1, 1], "{v}");
    assert_eq!(bucket.get(&squat).unwrap(), b"not the package");

    // app's object deleted behind debvault's back: within the day the
    // publish trusts its record (a listing would add app again); verify
    // finds the hole.
    let app_key = format!("public/{}", app.pool_path());
    bucket.delete(&app_key);
    assert_eq!(pool(&publish(&env, "s1")), [0, 2, 0]);
    let out = env.run(&["--json", "verify", "--sample", "0"]);
    assert_eq!(out.code, 3, "{}", out.transcript());
    assert!(
        out.stdout.contains(&app.pool_path()),
        "{}",
        out.transcript()
    );

    // A day after the listing, the next publish lists again and writes
    // app back.
    let db = rusqlite::Connection::open(env.root().join("debvault.db")).unwrap();
    let day_ago = (chrono::Utc::now() - chrono::Duration::hours(25))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert_eq!(
        db.execute("UPDATE remote_pool_listed SET listed_at = ?1", [&day_ago])
            .unwrap(),
        1
    );
    drop(db);
    assert_eq!(pool(&publish(&env, "s2")), [1, 1, 1]);
    assert_eq!(bucket.get(&app_key).unwrap(), app.deb());
    env.ok(&["verify"]);
}
