//! Configuration: built-in defaults < `hub.toml` (or `--config FILE`) < `HUB__SECTION__KEY`
//! environment variables, layered with the `config` crate.
//!
//! Secrets (the database URL, which may carry a password, and the CNIC hash key) are typed as
//! [`SecretString`], so neither `Debug` nor the `hub config` listing ever prints them.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use config::{Config, Environment, File, FileFormat};
use hub_schema::domain::SizeThresholds;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;

/// The built-in defaults, also the reference of every key (`hub config` prints the effective
/// values in the same shape).
pub const DEFAULTS: &str = include_str!("../hub.default.toml");

/// The effective configuration of one `hub` process.
#[derive(Debug, Deserialize)]
pub struct Settings {
    /// Where the hub keeps its files: the default SQLite database and, on SQLite, the
    /// generated CNIC hash key.
    pub data_dir: PathBuf,
    pub database: DatabaseSettings,
    pub server: ServerSettings,
    pub security: SecuritySettings,
    pub log: LogSettings,
    pub plugins: PluginSettings,
    pub size_classes: SizeThresholds,
    pub graphql: GraphqlSettings,
    pub access: AccessSettings,
    pub import: ImportSettings,
}

/// The default of `access.min_group_firms`.
pub const DEFAULT_MIN_GROUP_FIRMS: u32 = 5;

/// Who may call: credentials and identity providers, and what callers without firm-level
/// access see of aggregates.
#[derive(Debug, Clone, Deserialize)]
pub struct AccessSettings {
    /// The least number of contributing firms of a group whose aggregated figures callers
    /// without firm-level access see (see `graphql::suppress`).
    pub min_group_firms: u32,
    /// How long a looked-up API key is trusted without reading it again, in milliseconds
    /// (0: every request reads its key). A key revoked through this instance (the
    /// `revokeApiKey` mutation) is refused from the next request on; one revoked by
    /// another process or instance (`hub keys revoke`) within this time.
    pub key_cache_ms: u64,
    pub jwt: JwtSettings,
    /// Limits per role, over `[graphql]`'s.
    #[serde(default)]
    pub roles: RoleLimitsByRole,
}

impl Default for AccessSettings {
    fn default() -> Self {
        AccessSettings {
            min_group_firms: DEFAULT_MIN_GROUP_FIRMS,
            key_cache_ms: 2_000,
            jwt: JwtSettings::default(),
            roles: RoleLimitsByRole::default(),
        }
    }
}

/// `[access.roles.ROLE]` for each role.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RoleLimitsByRole {
    pub public: RoleLimits,
    pub analyst: RoleLimits,
    pub curator: RoleLimits,
    pub admin: RoleLimits,
}

/// What one role may ask: unset limits are `[graphql]`'s.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RoleLimits {
    /// Deepest nesting of selections.
    pub max_depth: Option<usize>,
    /// Largest query cost.
    pub max_complexity: Option<usize>,
    /// Largest `first`/`last`.
    pub max_page_size: Option<u32>,
    /// Requests per minute per caller, on each instance (a key or token subject; for the
    /// public, the client's address); 0: no limit.
    pub requests_per_minute: u32,
    /// Whether introspection (`__schema`, `__type`) is answered.
    pub introspection: bool,
}

impl Default for RoleLimits {
    fn default() -> Self {
        RoleLimits {
            max_depth: None,
            max_complexity: None,
            max_page_size: None,
            requests_per_minute: 0,
            introspection: true,
        }
    }
}

impl RoleLimitsByRole {
    /// The limits of `role`.
    pub fn of(&self, role: crate::graphql::principal::Role) -> &RoleLimits {
        use crate::graphql::principal::Role;
        match role {
            Role::Public => &self.public,
            Role::Analyst => &self.analyst,
            Role::Curator => &self.curator,
            Role::Admin => &self.admin,
        }
    }
}

impl GraphqlSettings {
    /// These settings with `role`'s limits over them.
    pub fn for_role(&self, limits: &RoleLimits) -> GraphqlSettings {
        GraphqlSettings {
            max_depth: limits.max_depth.unwrap_or(self.max_depth),
            max_complexity: limits.max_complexity.unwrap_or(self.max_complexity),
            max_page_size: limits.max_page_size.unwrap_or(self.max_page_size),
            ..self.clone()
        }
    }
}

/// A list of paths, or one string of comma-separated paths.
fn paths<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<PathBuf>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Paths {
        List(Vec<PathBuf>),
        Text(String),
    }
    Ok(match Paths::deserialize(d)? {
        Paths::List(list) => list,
        Paths::Text(text) => text
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .collect(),
    })
}

/// JWTs from an agency's identity provider.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct JwtSettings {
    /// HS256 shared secret; empty: none.
    pub hs256_secret: Option<SecretString>,
    /// PEM files of RS256 or ES256 public keys: a list in TOML, or one comma-separated
    /// string (`HUB__ACCESS__JWT__PUBLIC_KEY_FILES=a.pem,b.pem`).
    #[serde(deserialize_with = "paths")]
    pub public_key_files: Vec<PathBuf>,
    /// A JWKS document (RFC 7517) on disk; empty: none.
    pub jwks_file: Option<PathBuf>,
    /// The required `iss`; empty: not checked.
    pub issuer: String,
    /// The required `aud`; empty: not checked.
    pub audience: String,
    /// Clock skew allowed on `exp` and `nbf`, in seconds.
    pub leeway_seconds: u64,
    /// The claim holding the role (a name, or an array of names).
    pub role_claim: String,
    /// The claim holding the scopes (space-separated, or an array).
    pub scope_claim: String,
    /// The claim naming the caller in the audit trail.
    pub subject_claim: String,
    /// The claim holding the slugs of the clusters the caller is scoped to (an array, or a
    /// space-separated string); a token without it sees every cluster.
    pub clusters_claim: String,
}

/// The import pipeline: batch size, reporting, sources and their priorities.
#[derive(Debug, Clone, Deserialize)]
pub struct ImportSettings {
    /// Records validated and written per batch. Memory grows with it; throughput barely does
    /// above a few thousand.
    pub batch_size: usize,
    /// Problems listed in an import's report (all are stored with an applied run).
    pub max_reported_issues: usize,
    /// Priority of a source created by an import without one configured (lower wins).
    pub default_priority: i32,
    /// The most bytes a file may expand to when read (a workbook's uncompressed sheets and
    /// strings, a CSV's text).
    pub max_expanded_bytes: u64,
    /// The most rows of one sheet (or CSV file).
    pub max_rows_per_sheet: u64,
    /// The longest value of one cell, in bytes: a longer one is a row error.
    pub max_field_bytes: usize,
    /// The longest line of a text file, in bytes: a longer one is a file error.
    pub max_line_bytes: usize,
    /// How long an import waits for another import to finish (imports write one at a
    /// time), in milliseconds, before it gives up saying which import holds the writer.
    pub lock_wait_ms: u64,
    /// Sources by code: their name, kind and survivorship priority (lower wins).
    #[serde(default)]
    pub sources: std::collections::BTreeMap<String, SourceSettings>,
    /// Linking firms that no strong identifier links (`[import.linkage]`).
    #[serde(default)]
    pub linkage: crate::import::linkage::LinkageSettings,
}

/// A configured source.
#[derive(Debug, Clone, Deserialize)]
pub struct SourceSettings {
    pub name: Option<String>,
    /// registry | survey | attendance | trade_statistics | curated | spreadsheet
    pub kind: Option<String>,
    pub priority: Option<i32>,
    /// Who publishes the source's data.
    #[serde(default)]
    pub publisher: Option<String>,
    /// What the source holds, for people reading the catalogue.
    #[serde(default)]
    pub description: Option<String>,
}

impl Default for ImportSettings {
    fn default() -> Self {
        ImportSettings {
            batch_size: 2_000,
            max_reported_issues: 200,
            default_priority: 50,
            max_expanded_bytes: 256 << 20,
            max_rows_per_sheet: 1 << 20,
            max_field_bytes: 64 << 10,
            max_line_bytes: 4 << 20,
            lock_wait_ms: 600_000,
            sources: Default::default(),
            linkage: Default::default(),
        }
    }
}

impl ImportSettings {
    /// The bounds of reading a file, for the built-in importers.
    pub fn read_limits(&self) -> hub_importers::limits::ReadLimits {
        hub_importers::limits::ReadLimits {
            max_expanded_bytes: self.max_expanded_bytes,
            max_rows_per_sheet: self.max_rows_per_sheet,
            max_field_bytes: self.max_field_bytes,
            max_line_bytes: self.max_line_bytes,
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct DatabaseSettings {
    /// `sqlite://PATH` or `postgres://USER:PASSWORD@HOST/DB`; empty means the SQLite file
    /// `hub.sqlite` in the data dir.
    pub url: Option<SecretString>,
    /// The connections GraphQL and the pages answer with; 0 picks the engine's default
    /// ([`DatabaseSettings::connections`]).
    pub max_connections: u32,
    /// The connections of the pool the datasets stream from, beside `max_connections`
    /// (see `db::connect_exports`): at most this many exports read at once, others wait.
    pub export_connections: u32,
    /// How long a statement waits for a locked SQLite database before failing.
    pub sqlite_busy_timeout_ms: u64,
    /// SQLite page cache per connection, in KiB.
    pub sqlite_cache_kib: u64,
    /// How much of the SQLite file is read through a shared memory mapping, in bytes (0:
    /// none).
    pub sqlite_mmap_bytes: u64,
    /// Whether PostgreSQL may JIT-compile the hub's statements (off: the hub's statements
    /// are short, and compiling costs more than it saves).
    pub postgres_jit: bool,
}

impl DatabaseSettings {
    /// The connections of the pool GraphQL and the pages answer with: `max_connections`,
    /// or when it is 0, on PostgreSQL 10, and on SQLite two per core and two more, at most
    /// 10 (6 on two cores). A SQLite connection runs its statements on the hub's own cores,
    /// so connections beyond a few per core add no pace; each keeps its own page cache and
    /// prepared statements (several MiB under load). On a two-core machine 6 connections
    /// answered the read benchmark at the pace of 10 with about 25 MiB less resident memory
    /// (see ARCHITECTURE.md, "Storage engines").
    pub fn connections(&self, engine: Engine) -> u32 {
        match (self.max_connections, engine) {
            (0, Engine::Postgres) => 10,
            (0, Engine::Sqlite) => {
                let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
                u32::try_from(2 * cores + 2).unwrap_or(10).min(10)
            }
            (n, _) => n,
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ServerSettings {
    /// Address to listen on; port 0 picks a free port (the chosen one is printed).
    pub bind: String,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
}

#[derive(Debug, Deserialize)]
pub struct SecuritySettings {
    /// Key of the keyed hash under which CNICs are stored, as at least 64 hex characters.
    /// On SQLite it is generated into the data dir on first run when not configured; on
    /// PostgreSQL it must be configured, the same for every instance.
    pub cnic_key: Option<SecretString>,
}

#[derive(Debug, Deserialize)]
pub struct LogSettings {
    /// An `EnvFilter` directive, e.g. `info` or `hub=debug,sqlx=warn`. `RUST_LOG` wins when set.
    pub filter: String,
    pub format: LogFormat,
}

#[derive(Debug, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Limits of the GraphQL endpoint, so that hostile or careless queries are refused early.
#[derive(Debug, Clone, Deserialize)]
pub struct GraphqlSettings {
    /// Deepest nesting of selections.
    pub max_depth: usize,
    /// Largest query cost (each field 1 plus what is under it; a list 1 plus its page size,
    /// `default_page_size` when not given, times one item; see `graphql::document`).
    pub max_complexity: usize,
    /// Page size when `first`/`last` is not given.
    pub default_page_size: u32,
    /// Largest `first`/`last` accepted.
    pub max_page_size: u32,
    /// Largest request body of a plain GraphQL request, in bytes.
    pub max_body_bytes: usize,
    /// Largest multipart request (file uploads), in bytes.
    pub max_upload_bytes: usize,
    /// Time limit of one request, in milliseconds.
    pub request_timeout_ms: u64,
    /// Time limit of a request with file uploads (an `importFile`: the body arriving and
    /// the import), in milliseconds.
    pub upload_timeout_ms: u64,
    /// How long the loader of nested lists waits for the siblings of one level to ask before
    /// it runs their one statement, in milliseconds. 0 (the default) sets no timer: the
    /// statement runs once the request can go no further without it and the level before
    /// has been read (see `graphql::batches`), so a level is one statement however slow
    /// the machine. A window above 0 also waits for siblings that ask later, adding that
    /// much latency per nesting level, on a timer thread of its own.
    pub batch_window_ms: u64,
    /// The most field selections a document may expand to (fragments spread where they
    /// are used, `__typename` and introspection fields counted), checked before anything
    /// else looks at the document.
    pub max_fields: usize,
    /// Largest cost of an introspection-only query (introspection lists counted at the
    /// schema's own sizes; GraphiQL's standard query fits).
    pub max_introspection_complexity: usize,
    /// The most items of any list in the arguments (an `in` list, `and`/`or` filters).
    pub max_list_items: usize,
    /// The deepest nesting of input objects and lists in an argument (`and`/`or`/`not`
    /// inside each other).
    pub max_input_depth: usize,
    /// The most values in all the arguments of a request together.
    pub max_input_values: usize,
    /// The longest text argument, in bytes.
    pub max_text_bytes: usize,
    /// The most words of a firm search.
    pub max_search_words: usize,
}

impl Default for GraphqlSettings {
    fn default() -> Self {
        GraphqlSettings {
            max_depth: 12,
            max_complexity: 5_000,
            default_page_size: 25,
            max_page_size: 100,
            max_body_bytes: 1 << 20,
            max_upload_bytes: 200 << 20,
            request_timeout_ms: 30_000,
            upload_timeout_ms: 600_000,
            batch_window_ms: 0,
            max_fields: 2_000,
            max_introspection_complexity: 500_000,
            max_list_items: 1_000,
            max_input_depth: 32,
            max_input_values: 5_000,
            max_text_bytes: 4_096,
            max_search_words: 20,
        }
    }
}

/// Importer plugins: where they are loaded from, how they are isolated, their limits.
#[derive(Debug, Clone, Deserialize)]
pub struct PluginSettings {
    /// Folder from which importer plugins are loaded: every file in it (not below it) with
    /// the platform's library extension (`.so`, `.dylib`, `.dll`).
    pub dir: PathBuf,
    /// `process` (the default): each plugin call runs in a child process, so that a crash
    /// or hang of the plugin ends only the child. `in-process`: loaded into the hub itself,
    /// faster, for trusted plugins only.
    pub isolation: Isolation,
    /// Longest a plugin may take to answer one call (its manifest, a sniff, opening a file,
    /// one batch), in milliseconds.
    pub timeout_ms: u64,
    /// Largest batch a plugin may return, in bytes of NDJSON.
    pub max_batch_bytes: u64,
    /// Largest output of one import through a plugin, in bytes of NDJSON.
    pub max_output_bytes: u64,
    /// Longest one import through a plugin may read, in milliseconds: the database's
    /// write transaction stays open meanwhile, so a plugin that answers each call just in
    /// time must not keep it open for ever.
    pub max_import_ms: u64,
    /// Pins: the SHA-256 (hex) of every library allowed to load. Empty: any library in
    /// `dir` loads (after its checks).
    #[serde(default)]
    pub allowed_sha256: Vec<String>,
}

impl Default for PluginSettings {
    fn default() -> Self {
        PluginSettings {
            dir: PathBuf::from("plugins"),
            isolation: Isolation::Process,
            timeout_ms: 30_000,
            max_batch_bytes: 64 << 20,
            max_output_bytes: 16 << 30,
            max_import_ms: 30 * 60_000,
            allowed_sha256: Vec::new(),
        }
    }
}

/// How plugins are run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Isolation {
    /// In a child process (`hub plugin-host`): a crash, abort or hang ends only the child.
    Process,
    /// Loaded into the hub's own process: no process start per call, but a crash of the
    /// plugin is a crash of the hub.
    InProcess,
}

impl Isolation {
    pub fn name(self) -> &'static str {
        match self {
            Isolation::Process => "process",
            Isolation::InProcess => "in-process",
        }
    }
}

/// Where the layers come from, so that tests and `hub config` can name them.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    /// `--config FILE`: must exist. Without it, `hub.toml` in the working directory is read
    /// when present.
    pub file: Option<PathBuf>,
}

impl Settings {
    /// Loads the layers: defaults, then the file, then the environment (`HUB__` prefix,
    /// `__` between section and key, e.g. `HUB__DATABASE__URL`).
    pub fn load(sources: &Sources) -> anyhow::Result<Self> {
        let mut builder = Config::builder().add_source(File::from_str(DEFAULTS, FileFormat::Toml));
        builder = match &sources.file {
            Some(path) => builder.add_source(
                File::from(path.as_path())
                    .format(FileFormat::Toml)
                    .required(true),
            ),
            None => builder.add_source(File::new("hub.toml", FileFormat::Toml).required(false)),
        };
        builder = builder.add_source(
            Environment::with_prefix("HUB")
                .prefix_separator("__")
                .separator("__"),
        );
        let settings: Settings = builder
            .build()
            .context("reading the configuration")?
            .try_deserialize()
            .context("invalid configuration")?;
        settings
            .import
            .linkage
            .validate()
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        Ok(settings)
    }

    /// The database URL, defaulting to the SQLite file in the data dir.
    pub fn database_url(&self) -> String {
        match self
            .database
            .url
            .as_ref()
            .map(|u| u.expose_secret().trim().to_owned())
        {
            Some(url) if !url.is_empty() => url,
            _ => format!("sqlite://{}?mode=rwc", self.sqlite_default_path().display()),
        }
    }

    /// The SQLite database file, when the database is SQLite.
    pub fn sqlite_file(&self) -> Option<PathBuf> {
        let url = self.database_url();
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))?;
        let path = rest.split('?').next().unwrap_or_default();
        (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
    }

    /// The default SQLite file.
    pub fn sqlite_default_path(&self) -> PathBuf {
        self.data_dir.join("hub.sqlite")
    }

    /// The effective configuration as TOML, with secrets replaced by `[redacted]` (or
    /// `[not set]`), for `hub config`.
    pub fn to_redacted_toml(&self) -> String {
        fn secret(s: &Option<SecretString>) -> &'static str {
            match s {
                Some(v) if !v.expose_secret().is_empty() => "[redacted]",
                _ => "[not set]",
            }
        }
        let t = &self.size_classes;
        format!(
            "data_dir = {data_dir:?}\n\n\
             [database]\nurl = \"{url}\"\nengine = \"{engine}\"\nmax_connections = {maxc}\nexport_connections = {expc}\nsqlite_busy_timeout_ms = {busy}\n\
             sqlite_cache_kib = {cache}\nsqlite_mmap_bytes = {mmap}\npostgres_jit = {jit}\n\n\
             [server]\nbind = {bind:?}\nworkers = {workers}\n\n\
             [security]\ncnic_key = \"{key}\"\n\n\
             [log]\nfilter = {filter:?}\nformat = \"{format}\"\n\n\
             [plugins]\ndir = {plugins:?}\nisolation = \"{isolation}\"\ntimeout_ms = {pt}\nmax_batch_bytes = {pb}\nmax_output_bytes = {po}\nmax_import_ms = {pm}\n\n\
             [size_classes]\nsmall_from = {small}\nmedium_from = {medium}\nlarge_from = {large}\n\n\
             [graphql]\nmax_depth = {gd}\nmax_complexity = {gc}\ndefault_page_size = {gp}\nmax_page_size = {gm}\n\
             max_body_bytes = {gb}\nmax_upload_bytes = {gu}\nrequest_timeout_ms = {gt}\nbatch_window_ms = {gw}\n\n\
             [access]\nmin_group_firms = {mgf}\nkey_cache_ms = {kc}\n\n[access.jwt]\nhs256_secret = \"{jwt_secret}\"\npublic_key_files = {pkf:?}\njwks_file = {jwks:?}\n\
             issuer = {iss:?}\naudience = {aud:?}\nleeway_seconds = {leeway}\nrole_claim = {rc:?}\n\
             scope_claim = {sc:?}\nsubject_claim = {subc:?}\nclusters_claim = {cc:?}\n",
            data_dir = self.data_dir.display().to_string(),
            url = secret(&self.database.url),
            engine = Engine::of_url(&self.database_url()).name(),
            maxc = self
                .database
                .connections(Engine::of_url(&self.database_url())),
            expc = self.database.export_connections,
            busy = self.database.sqlite_busy_timeout_ms,
            cache = self.database.sqlite_cache_kib,
            mmap = self.database.sqlite_mmap_bytes,
            jit = self.database.postgres_jit,
            bind = self.server.bind,
            workers = self.server.workers,
            key = secret(&self.security.cnic_key),
            filter = self.log.filter,
            format = match self.log.format {
                LogFormat::Text => "text",
                LogFormat::Json => "json",
            },
            plugins = self.plugins.dir.display().to_string(),
            isolation = self.plugins.isolation.name(),
            pt = self.plugins.timeout_ms,
            pb = self.plugins.max_batch_bytes,
            po = self.plugins.max_output_bytes,
            pm = self.plugins.max_import_ms,
            small = t.small_from(),
            medium = t.medium_from(),
            large = t.large_from(),
            gd = self.graphql.max_depth,
            gc = self.graphql.max_complexity,
            gp = self.graphql.default_page_size,
            gm = self.graphql.max_page_size,
            gb = self.graphql.max_body_bytes,
            gu = self.graphql.max_upload_bytes,
            gt = self.graphql.request_timeout_ms,
            gw = self.graphql.batch_window_ms,
            mgf = self.access.min_group_firms,
            kc = self.access.key_cache_ms,
            jwt_secret = secret(&self.access.jwt.hs256_secret),
            pkf = self
                .access
                .jwt
                .public_key_files
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>(),
            jwks = self
                .access
                .jwt
                .jwks_file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            iss = self.access.jwt.issuer,
            aud = self.access.jwt.audience,
            leeway = self.access.jwt.leeway_seconds,
            rc = self.access.jwt.role_claim,
            sc = self.access.jwt.scope_claim,
            subc = self.access.jwt.subject_claim,
            cc = self.access.jwt.clusters_claim,
        )
    }
}

/// The two storage engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn of_url(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Engine::Postgres
        } else {
            Engine::Sqlite
        }
    }

    /// The engine of a database URL, or why the URL names none the hub supports.
    pub fn parse_url(url: &str) -> anyhow::Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Engine::Postgres)
        } else if url.starts_with("sqlite:") {
            Ok(Engine::Sqlite)
        } else {
            let scheme = url.split_once(':').map_or("", |(s, _)| s);
            anyhow::bail!(
                "the database URL {} is not one the hub supports ({}): use sqlite://PATH or \
                 postgres://USER:PASSWORD@HOST:PORT/DATABASE (database.url)",
                redact_url(url),
                if scheme.is_empty() {
                    "it has no scheme".to_owned()
                } else {
                    format!("scheme `{scheme}`")
                }
            )
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

/// Makes sure the data dir exists.
pub fn ensure_dir(path: &Path) -> anyhow::Result<()> {
    if path.is_dir() {
        return Ok(());
    }
    // The data folder holds personal data (names, phones, e-mails) and the CNIC key: only
    // the hub's user may enter it.
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder
        .create(path)
        .with_context(|| format!("creating the data dir {}", path.display()))
}

/// `url` with its password (and any `password=` parameter) replaced by `[redacted]`, for
/// messages and logs.
pub fn redact_url(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let rest_start = scheme_end + 3;
        let authority_end = out[rest_start..]
            .find(['/', '?', '#'])
            .map_or(out.len(), |i| rest_start + i);
        if let Some(at) = out[rest_start..authority_end].rfind('@') {
            let userinfo = &out[rest_start..rest_start + at];
            if let Some(colon) = userinfo.find(':') {
                let start = rest_start + colon + 1;
                out.replace_range(start..rest_start + at, "[redacted]");
            }
        }
    }
    if let Some(q) = out.find('?') {
        let (head, query) = out.split_at(q + 1);
        let query: Vec<String> = query
            .split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=[redacted]"),
                _ => kv.to_owned(),
            })
            .collect();
        out = format!("{head}{}", query.join("&"));
    }
    out
}
