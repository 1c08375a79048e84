//! The `hub` command line: definitions (clap) and the glue that runs them.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::config::{Engine, Settings, Sources};

/// Cluster Data Hub: imports cluster, firm, training and trade data into one model and serves
/// it over GraphQL and, for BI tools, as datasets (CSV, NDJSON, JSON, Parquet) and SQL views.
#[derive(Debug, Parser)]
#[command(name = "hub", version)]
pub struct Cli {
    /// Configuration file (TOML). Without it, `hub.toml` in the working directory is read
    /// when present. Environment variables HUB__SECTION__KEY override both.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create or upgrade the database and load the bundled reference data.
    Migrate,
    /// Serve on `server.bind`: the pages (`/`), GraphQL (`/graphql`), datasets (`/datasets`).
    Serve,
    /// Create the database if missing, load reference and demo data, then serve (pages at
    /// `/`, GraphQL with GraphiQL at `/graphql`, datasets at `/datasets`).
    Demo {
        /// Data dir (overrides `data_dir`).
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// Address to listen on (overrides `server.bind`).
        #[arg(long, value_name = "ADDR")]
        bind: Option<String>,
    },
    /// Print the effective configuration, secrets redacted.
    Config,
    /// Print the GraphQL schema (SDL); `hub/schema.graphql` holds its output.
    Schema,
    /// Admin areas (province, division, district, tehsil), effective-dated.
    #[command(subcommand, name = "admin-areas")]
    AdminAreas(AdminAreasCommand),
    /// Import a file through an importer: validated, linked, applied in one transaction.
    ///
    /// Exit status 0 only when the import was applied (or the dry run found no errors).
    Import(ImportArgs),
    /// The importers the hub knows.
    #[command(subcommand)]
    Importers(ImportersCommand),
    /// Importer plugins.
    #[command(subcommand)]
    Plugins(PluginsCommand),
    /// API keys for partner agencies (`Authorization: Bearer <key>`). A running server
    /// honours a key created here from its next request on, and refuses one revoked here
    /// within `access.key_cache_ms` (2 s).
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Persons' personal data.
    #[command(subcommand)]
    Persons(PersonsCommand),
    /// Internal: the child process that runs one plugin library for the hub (process
    /// isolation). Speaks the plugin-host protocol on stdin and stdout.
    #[command(name = "plugin-host", hide = true)]
    PluginHost {
        #[arg(long, value_name = "PATH")]
        library: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum PluginsCommand {
    /// Load a plugin library the way the hub would (in a child process) and report its
    /// ABI, manifest and id checks; with --input, also its sniff of FILE and a dry-run
    /// import of it into the configured database (rolled back). Exit status 0 when every
    /// check passes (and the dry run finds no errors).
    Check {
        /// The library: a `.so` (`.dylib`, `.dll`) built with the plugin SDK.
        path: PathBuf,
        /// A file to sniff and import as a dry run.
        #[arg(long, value_name = "FILE")]
        input: Option<PathBuf>,
        /// A mapping file (TOML) passed to the plugin as its options.
        #[arg(long, value_name = "FILE")]
        mapping: Option<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The file to import (CSV, TSV, XLSX, XLS, ODS, or what a plugin reads).
    pub file: PathBuf,
    /// The importer's id (see `hub importers list`); picked by content when omitted.
    #[arg(long, value_name = "ID")]
    pub importer: Option<String>,
    /// A mapping file (TOML): sheets, header row, column → field, constants, source.
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// The source code to write under (overrides the mapping's `source`); without either,
    /// `file-` and the file's name.
    #[arg(long, value_name = "CODE")]
    pub source: Option<String>,
    /// Report what would change and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Apply the valid rows and record the rejected ones, instead of all or nothing.
    #[arg(long)]
    pub allow_partial: bool,
    /// Print the report as JSON on standard output.
    #[arg(long)]
    pub json: bool,
    /// Print a mapping file for what the importer detects in FILE, to edit and pass back
    /// with --mapping; imports nothing.
    #[arg(long)]
    pub suggest_mapping: bool,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key and print it once, as the last word of the output (only its SHA-256 is
    /// stored: a lost key cannot be shown again, only revoked and replaced).
    Create {
        /// A name for the key (letters, digits, `.`, `_`, `-`): the agency or tool that
        /// uses it. Lists and the audit trail name the key by it.
        #[arg(long, value_name = "NAME")]
        name: String,
        /// admin, curator, analyst or public (see README "Access for partner agencies").
        #[arg(long, value_name = "ROLE", value_parser = parse_role)]
        role: crate::graphql::principal::Role,
        /// Grant the `pii` scope: person names, phones, e-mails and masked CNICs.
        #[arg(long)]
        pii: bool,
        /// Scope the key to a cluster (by slug; repeat for several): it then sees only the
        /// records reachable from those clusters. Without it, every cluster.
        #[arg(long = "cluster", value_name = "SLUG")]
        clusters: Vec<String>,
        /// The last day (UTC) the key works, as YYYY-MM-DD; without it the key works
        /// until revoked.
        #[arg(long, value_name = "DATE")]
        expires: Option<chrono::NaiveDate>,
    },
    /// List the keys: name, prefix, role, scope, expiry and whether revoked (never the
    /// keys themselves).
    List {
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key by name: requests presenting it are refused (401) from then on (by a
    /// running server within `access.key_cache_ms`).
    Revoke {
        /// The key's name.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum PersonsCommand {
    /// Erase a person's personal data (names, CNIC, phone, e-mail, birth year) from the
    /// unified person and every source record of it, keeping the rows for anonymous
    /// counts; recorded in the audit trail. Re-importing the same files does not bring it
    /// back.
    Erase {
        /// The person: its number, or its GraphQL id (`Person.id`).
        id: String,
    },
}

fn parse_role(text: &str) -> Result<crate::graphql::principal::Role, String> {
    crate::graphql::principal::Role::parse(text)
        .ok_or_else(|| format!("{text:?} is not a role: admin, curator, analyst or public"))
}

#[derive(Debug, Subcommand)]
pub enum ImportersCommand {
    /// List the importers: id, version, name, file kinds and records emitted.
    List {
        /// As JSON (the importers' manifests).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdminAreasCommand {
    /// Load an official admin-area list: a CSV with the columns province, division,
    /// district, tehsil and optionally valid_from, valid_to (YYYY-MM-DD), former_parent,
    /// notes. Areas are found again by level, parent and normalised name; new ones are
    /// added and changed dates updated, in one transaction.
    Import {
        /// The CSV file.
        file: PathBuf,
    },
}

/// The stack size of the hub's threads, where GraphQL requests execute (the runtime's and,
/// through [`grow_thread_stacks`], the HTTP workers'): a query nested to the depth limit
/// resolves through many nested futures, which an unoptimised build keeps large (a query
/// 12 deep overflowed the 2 MiB of a debug build's HTTP worker). Address space only: a
/// thread's resident stack is what it touches.
pub const STACK_SIZE: usize = 16 * 1024 * 1024;

/// Gives every thread the standard library spawns [`STACK_SIZE`] of stack unless
/// `RUST_MIN_STACK` says otherwise: actix-web spawns its HTTP workers with the default
/// (2 MiB) and has no setting for it, and requests run on them (see
/// `graphql::http::run`).
///
/// # Safety
///
/// Sets an environment variable: call it before any other thread exists (first in `main`).
#[allow(unsafe_code)]
pub unsafe fn grow_thread_stacks() {
    if std::env::var_os("RUST_MIN_STACK").is_none() {
        // SAFETY: the caller guarantees that no other thread reads or writes the
        // environment (none exists yet).
        unsafe { std::env::set_var("RUST_MIN_STACK", STACK_SIZE.to_string()) };
    }
}

/// Parses the command line, runs it, and turns errors into a message and exit status 1.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(STACK_SIZE)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hub: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("hub: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one command.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // The plugin host child reads no configuration: it runs foreign code and is told all it
    // needs on its command line and stdin.
    if let Command::PluginHost { library } = &cli.command {
        return Ok(crate::plugins::plugin_host_main(library));
    }
    let mut settings = Settings::load(&Sources {
        file: cli.config.clone(),
    })?;
    if let Command::Demo { data_dir, bind } = &cli.command {
        if let Some(dir) = data_dir {
            settings.data_dir = dir.clone();
        }
        if let Some(bind) = bind {
            settings.server.bind = bind.clone();
        }
    }
    crate::telemetry::init(
        &settings.log.filter,
        settings.log.format,
        matches!(cli.command, Command::Migrate),
    );
    hub_importers::limits::configure(settings.import.read_limits());
    crate::import::lock::configure(crate::import::lock::LockSettings {
        sqlite_file: settings.sqlite_file(),
        wait: Some(std::time::Duration::from_millis(
            settings.import.lock_wait_ms,
        )),
    });
    match cli.command {
        Command::Config => {
            print!("{}", settings.to_redacted_toml());
        }
        Command::Schema => {
            print!("{}", crate::graphql::sdl());
        }
        Command::Migrate => {
            let (db, _) = open_migrated(&settings).await?;
            db.close().await.ok();
            println!(
                "hub: database is up to date ({})",
                engine(&settings)?.name()
            );
        }
        Command::Serve => {
            let (db, _) = open_existing(&settings).await?;
            crate::server::serve(&settings, db).await?;
        }
        Command::AdminAreas(AdminAreasCommand::Import { file }) => {
            let (db, _) = open_migrated(&settings).await?;
            let counts = crate::reference::import_admin_area_file(&db, &file).await?;
            db.close().await.ok();
            println!(
                "hub: admin areas from {}: {} inserted, {} updated",
                file.display(),
                counts.inserted,
                counts.updated
            );
        }
        Command::Import(args) => {
            let json = args.json && !args.suggest_mapping;
            let file = args.file.clone();
            return match import(&settings, args).await {
                // Under --json the report is printed whatever happens, so that a script
                // reading stdout always reads one.
                Err(e) if json => {
                    let report = serde_json::json!({
                        "status": "failed",
                        "file": file.file_name().map(|n| n.to_string_lossy().into_owned()),
                        "error": format!("{e:#}"),
                    });
                    println!("{}", serde_json::to_string_pretty(&report)?);
                    Err(e)
                }
                other => other,
            };
        }
        Command::Importers(ImportersCommand::List { json }) => {
            list_importers(&settings, json)?;
        }
        Command::Plugins(PluginsCommand::Check {
            path,
            input,
            mapping,
            json,
        }) => {
            let mapping = match &mapping {
                Some(path) => Some(read_mapping(path)?),
                None => None,
            };
            let check =
                crate::plugins::check::run(&settings, &path, input.as_deref(), mapping).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&check)?);
            } else {
                print!("{check}");
            }
            return Ok(if check.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        Command::Keys(command) => {
            let (db, _) = open_existing(&settings).await?;
            let result = keys(&db, command, &settings).await;
            db.close().await.ok();
            result?;
        }
        Command::Persons(PersonsCommand::Erase { id }) => {
            let row = crate::access::erase::person_row(&id)?;
            let (db, _) = open_existing(&settings).await?;
            let erased = crate::access::erase::erase(&db, row, "cli").await;
            db.close().await.ok();
            let erased = erased?;
            println!(
                "hub: erased the personal data of person {row}{} and of {} source record(s)",
                if erased.persons.len() > 1 {
                    format!(" (and {} merged into it)", erased.persons.len() - 1)
                } else {
                    String::new()
                },
                erased.source_records
            );
        }
        Command::PluginHost { .. } => unreachable!("handled before the configuration is read"),
        Command::Demo { .. } => {
            let (db, key) = open_migrated(&settings).await?;
            match crate::demo::load_demo(&db, &key, &settings.size_classes).await? {
                Some(summary) => println!("hub: loaded the demo dataset\n{summary}"),
                None => println!("hub: the demo dataset is already loaded"),
            }
            crate::server::serve(&settings, db).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `hub keys …`.
async fn keys(
    db: &sea_orm::DatabaseConnection,
    command: KeysCommand,
    settings: &Settings,
) -> anyhow::Result<()> {
    use crate::access::keys;
    match command {
        KeysCommand::Create {
            name,
            role,
            pii,
            clusters,
            expires,
        } => {
            let new = keys::NewKey {
                name,
                role,
                pii,
                clusters: clusters.clone(),
                expires_at: expires.map(keys::end_of),
            };
            let created = keys::create(db, &new, "cli").await?;
            let until = match expires {
                Some(date) => format!("through {date} (UTC)"),
                None => "until revoked".to_owned(),
            };
            println!(
                "hub: created the key `{}` ({}{}{}), valid {until}. It is shown this once; \
                 store it now:",
                created.key.name,
                role,
                if pii { ", pii" } else { "" },
                if clusters.is_empty() {
                    String::new()
                } else {
                    format!(", clusters {}", clusters.join(" "))
                },
            );
            println!("{}", created.secret);
        }
        KeysCommand::List { json } => {
            let all = keys::list(db).await?;
            let now = chrono::Utc::now();
            let state = |k: &hub_schema::entity::api_keys::Model| {
                if k.revoked_at.is_some() {
                    "revoked"
                } else if k.expires_at.is_some_and(|at| at <= now) {
                    "expired"
                } else {
                    "active"
                }
            };
            if json {
                let rows: Vec<serde_json::Value> = all
                    .iter()
                    .map(|k| {
                        serde_json::json!({
                            "name": k.name,
                            "prefix": k.prefix,
                            "role": k.role,
                            "pii": k.pii,
                            "clusters": keys::scope_of(k),
                            "state": state(k),
                            "createdAt": k.created_at.to_rfc3339(),
                            "expiresAt": k.expires_at.map(|t| t.to_rfc3339()),
                            "revokedAt": k.revoked_at.map(|t| t.to_rfc3339()),
                        })
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else if all.is_empty() {
                println!("hub: no keys; create one with `hub keys create --name NAME --role ROLE`");
            } else {
                println!(
                    "{:<24} {:<14} {:<8} {:<4} {:<8} {:<20} {:<17} CLUSTERS",
                    "NAME", "PREFIX", "ROLE", "PII", "STATE", "CREATED", "EXPIRES"
                );
                for k in &all {
                    println!(
                        "{:<24} {:<14} {:<8} {:<4} {:<8} {:<20} {:<17} {}",
                        k.name,
                        k.prefix,
                        k.role,
                        if k.pii { "yes" } else { "no" },
                        state(k),
                        k.created_at.format("%Y-%m-%d %H:%M"),
                        k.expires_at
                            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
                            .unwrap_or_else(|| "never".into()),
                        keys::scope_of(k).map_or_else(|| "all".to_owned(), |c| c.join(" ")),
                    );
                }
            }
        }
        KeysCommand::Revoke { name } => {
            let (key, now) = keys::revoke(db, &name, "cli").await?;
            if now {
                println!(
                    "hub: revoked the key `{}` ({}); running servers refuse it within {} ms \
                     (access.key_cache_ms)",
                    key.name, key.prefix, settings.access.key_cache_ms
                );
            } else {
                println!("hub: the key `{}` was revoked already", key.name);
            }
        }
    }
    Ok(())
}

/// `hub importers list`: built-in importers, then plugins; refused plugins on stderr.
fn list_importers(settings: &Settings, json: bool) -> anyhow::Result<()> {
    let importers = crate::import::Importers::load(&settings.plugins);
    let listing = importers.listing();
    if json {
        let entries: Vec<serde_json::Value> = listing
            .into_iter()
            .map(|(manifest, origin)| {
                let mut value = serde_json::to_value(&manifest).unwrap_or_default();
                if let (Some(object), crate::import::Origin::Plugin { path, isolation }) =
                    (value.as_object_mut(), &origin)
                {
                    object.insert(
                        "plugin".into(),
                        serde_json::json!({
                            "path": path.display().to_string(),
                            "isolation": isolation.name(),
                        }),
                    );
                }
                value
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&entries)?);
    } else {
        for (m, origin) in listing {
            let emits: Vec<&str> = m.emits.iter().map(|k| k.as_str()).collect();
            println!("{:<24} {:<10} {}", m.id, m.version, m.name);
            if let crate::import::Origin::Plugin { path, isolation } = origin {
                println!(
                    "{:<24} plugin {} ({})",
                    "",
                    path.display(),
                    isolation.name()
                );
            }
            println!("{:<24} reads .{}", "", m.inputs.extensions.join(", ."));
            println!("{:<24} emits {}", "", emits.join(", "));
        }
    }
    for refused in importers.refused() {
        eprintln!("hub: {refused}");
    }
    Ok(())
}

/// A mapping file (TOML) as the JSON options an importer takes.
fn read_mapping(path: &std::path::Path) -> anyhow::Result<serde_json::Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the mapping file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{} is not a valid mapping file", path.display()))
}

/// `hub import`.
async fn import(settings: &Settings, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let mapping = match &args.mapping {
        Some(path) => Some(read_mapping(path)?),
        None => None,
    };
    if args.suggest_mapping {
        let input = hub_plugin_sdk::Input::new(&args.file);
        match hub_importers::spreadsheet::suggest_mapping(&input) {
            Ok(text) => {
                print!("{text}");
                return Ok(ExitCode::SUCCESS);
            }
            Err(e) => anyhow::bail!("{e}"),
        }
    }
    // In-process plugins print on the hub's own stdout: keep it for the report.
    let quiet = (settings.plugins.isolation == crate::config::Isolation::InProcess)
        .then(crate::plugins::StdoutToStderr::new)
        .flatten();
    let importers = crate::import::Importers::load(&settings.plugins);
    let (db, key) = open_migrated(settings).await?;
    let env = crate::import::ImportEnv {
        key: &key,
        sizes: &settings.size_classes,
        settings: &settings.import,
        importers: &importers,
    };
    let request = crate::import::ImportRequest {
        path: args.file.clone(),
        file_name: None,
        importer: args.importer.clone(),
        mapping,
        source: args.source.clone(),
        dry_run: args.dry_run,
        allow_partial: args.allow_partial,
        triggered_by: Some("cli".into()),
        actor: None,
    };
    let bar = if args.json {
        indicatif::ProgressBar::hidden()
    } else {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr_with_hz(4));
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} {pos} rows read ({per_sec}) {elapsed}",
        ) {
            bar.set_style(style);
        }
        bar
    };
    let progress = |rows: u64| bar.set_position(rows);
    let report = crate::import::run(&db, &env, request, &progress).await;
    bar.finish_and_clear();
    db.close().await.ok();
    drop(quiet);
    let report = report?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if report.succeeded() {
        print!("{report}");
    } else {
        eprint!("{report}");
    }
    Ok(if report.succeeded() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn engine(settings: &Settings) -> anyhow::Result<Engine> {
    Engine::parse_url(&settings.database_url())
}

/// Opens a database `hub migrate` made and brought up to date, changing nothing: a missing
/// database, key or migration is an error that says to run `hub migrate`.
pub(crate) async fn open_existing(
    settings: &Settings,
) -> anyhow::Result<(sea_orm::DatabaseConnection, hub_schema::domain::CnicKey)> {
    let db = crate::db::connect_existing(settings).await?;
    let key = crate::db::existing_cnic_key(settings, engine(settings)?)?;
    crate::db::check_cnic_key(&db, &key)
        .await
        .context("the database is not migrated yet or belongs to another key; run `hub migrate`")?;
    crate::db::check_migrated(&db).await?;
    crate::reference::check_loaded(&db).await?;
    Ok((db, key))
}

/// Connects, migrates, checks the CNIC key and loads the reference data.
pub(crate) async fn open_migrated(
    settings: &Settings,
) -> anyhow::Result<(sea_orm::DatabaseConnection, hub_schema::domain::CnicKey)> {
    let key = crate::db::cnic_key(settings, engine(settings)?)?;
    let db = crate::db::connect(settings).await?;
    crate::db::migrate(&db).await?;
    crate::db::check_cnic_key(&db, &key).await?;
    if let Some(loaded) = crate::reference::load_bundled(&db).await? {
        tracing::info!(
            codes = loaded.classification_codes,
            concordances = loaded.concordances,
            countries = loaded.countries,
            admin_areas = loaded.admin_areas.inserted,
            "loaded the bundled reference data"
        );
    }
    if let Some(updated) = crate::import::figures::upgrade(&db, &settings.size_classes).await? {
        tracing::info!(
            organisations = updated,
            "current figures chosen again by the latest period"
        );
    }
    if crate::rollups::ensure(&db).await? {
        tracing::info!("statistics rollups computed");
    }
    crate::db::analyze_if_grown(&db).await?;
    Ok((db, key))
}
