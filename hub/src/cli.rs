//! The `hub` command line: definitions (clap) and the glue that runs them.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};

use crate::config::{Engine, Settings, Sources};

/// Cluster Data Hub: imports cluster, firm, training and trade data into one model and serves
/// it over GraphQL and as datasets.
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
    /// Serve the HTTP API on `server.bind`.
    Serve,
    /// Create the database if missing, load reference and demo data, then serve.
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

/// Parses the command line, runs it, and turns errors into a message and exit status 1.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
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
    crate::telemetry::init(&settings.log.filter, settings.log.format);
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
            println!("hub: database is up to date ({})", engine(&settings).name());
        }
        Command::Serve => {
            let db = crate::db::connect(&settings).await?;
            let key = crate::db::cnic_key(&settings, engine(&settings))?;
            crate::db::check_cnic_key(&db, &key).await.context(
                "the database is not migrated yet or belongs to another key; run `hub migrate`",
            )?;
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
        Command::Import(args) => return import(&settings, args).await,
        Command::Importers(ImportersCommand::List { json }) => {
            let manifests = crate::import::Importers::builtin().manifests();
            if json {
                println!("{}", serde_json::to_string_pretty(&manifests)?);
            } else {
                for m in manifests {
                    let emits: Vec<&str> = m.emits.iter().map(|k| k.as_str()).collect();
                    println!("{:<24} {:<10} {}", m.id, m.version, m.name);
                    println!("{:<24} reads .{}", "", m.inputs.extensions.join(", ."));
                    println!("{:<24} emits {}", "", emits.join(", "));
                }
            }
        }
        Command::Demo { .. } => {
            let (db, key) = open_migrated(&settings).await?;
            match crate::seed::load_demo(&db, &key, &settings.size_classes).await? {
                Some(summary) => println!("hub: loaded the demo dataset\n{summary}"),
                None => println!("hub: the demo dataset is already loaded"),
            }
            crate::server::serve(&settings, db).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `hub import`.
async fn import(settings: &Settings, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let importers = crate::import::Importers::builtin();
    let mapping = match &args.mapping {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the mapping file {}", path.display()))?;
            let value: serde_json::Value = toml::from_str(&text)
                .with_context(|| format!("{} is not a valid mapping file", path.display()))?;
            Some(value)
        }
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

fn engine(settings: &Settings) -> Engine {
    Engine::of_url(&settings.database_url())
}

/// Connects, migrates, checks the CNIC key and loads the reference data.
async fn open_migrated(
    settings: &Settings,
) -> anyhow::Result<(sea_orm::DatabaseConnection, hub_schema::domain::CnicKey)> {
    let key = crate::db::cnic_key(settings, engine(settings))?;
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
    Ok((db, key))
}
