//! `archway manifest`: manifest lists (image indexes) as `docker manifest`, `buildah
//! manifest` and `buildx imagetools` handle them ([`archway_build::manifests`]):
//! `create`, `annotate`, `push`, `rm`, and `inspect`, the entries of an index with their
//! platforms (attestations shown as attestations) or a manifest's platform, as a table,
//! `--json`, or the exact bytes with `--raw`. A list name is looked up among archway's
//! own lists first, then as an image reference.

use crate::registry_args::RegistryArgs;
use archway_build::manifests::{self, ListName};
use archway_image::listing::{entries, Role};
use archway_image::resolve::resolve;
use archway_image::{open, Document, ImageRef, Selector};
use clap::{Args, Subcommand};
use std::io::Write;

/// Examples, for `archway manifest --help`.
pub const EXAMPLES: &str = "\
Examples:
  archway manifest create app:1 oci:./out:amd64 docker://127.0.0.1:5000/app:arm64 --tls-verify=false
  archway manifest annotate app:1 sha256:0123... --arch arm64 --variant v8
  archway manifest push app:1 docker://127.0.0.1:5000/app:1 --tls-verify=false
  archway manifest create oci:./out:multi oci:./out:amd64 oci:./out:arm64   # offline, in a layout
  archway manifest rm app:1
  archway manifest inspect docker://docker.io/library/alpine:3.20
  archway manifest inspect oci:./out:app --raw | jq .
  archway manifest inspect docker://127.0.0.1:5000/app:1 --tls-verify=false --json

References use the transports of skopeo and podman: oci:DIR[:TAG], oci-archive:FILE[:TAG],
docker-archive:FILE, docker://HOST/REPO[:TAG|@DIGEST] (a bare name means docker.io).";

/// `archway manifest` and its subcommands.
#[derive(Debug, Args)]
pub struct ManifestArgs {
    #[command(subcommand)]
    pub command: ManifestCommand,
}

#[derive(Debug, Subcommand)]
pub enum ManifestCommand {
    /// Create a list from images (their blobs copied in; nothing needs pushing first).
    Create {
        /// The list: a name, or oci:DIR:TAG for a list in a layout.
        list: String,
        /// Images (or indexes, whose entries are added) by reference.
        #[arg(required = true)]
        images: Vec<String>,
        /// Add to an existing list.
        #[arg(long)]
        amend: bool,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// Set the platform of one entry (by digest or by the image's reference).
    Annotate {
        list: String,
        image: String,
        #[arg(long)]
        os: Option<String>,
        #[arg(long)]
        arch: Option<String>,
        #[arg(long)]
        variant: Option<String>,
        #[arg(long = "os-version")]
        os_version: Option<String>,
        #[arg(long = "os-features", value_delimiter = ',')]
        os_features: Vec<String>,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// Push a list and every image in it to a registry, byte for byte.
    Push {
        list: String,
        /// Where to: docker://HOST/REPO[:TAG] (or HOST/REPO[:TAG]).
        destination: String,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// Remove a list (the images stay).
    Rm {
        list: String,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// Show an index's entries (digest, platform, size, media type) or a manifest's
    /// platform.
    Inspect(InspectArgs),
}

/// `archway manifest inspect REF`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The index or image to inspect.
    pub reference: String,
    /// Print the document's bytes exactly as stored.
    #[arg(long, conflicts_with = "json")]
    pub raw: bool,
    /// Print JSON: {"name", "mediaType", "digest", "manifests": [{"digest", "mediaType",
    /// "size", "platform", "attestationFor"}]} (a manifest: "platform" instead of
    /// "manifests").
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// Run `archway manifest`; the exit code.
pub fn run(args: &ManifestArgs) -> i32 {
    let result = match &args.command {
        ManifestCommand::Create { list, images, amend, registry } => {
            let options = registry.options();
            options
                .and_then(|o| manifests::create(&ListName::parse(list)?, images, *amend, &o))
                .map(|d| println!("{d}"))
        }
        ManifestCommand::Annotate { list, image, os, arch, variant, os_version, os_features, registry } => registry
            .options()
            .and_then(|o| {
                manifests::annotate(
                    &ListName::parse(list)?,
                    image,
                    os.as_deref(),
                    arch.as_deref(),
                    variant.as_deref(),
                    os_version.as_deref(),
                    os_features,
                    &o,
                )
            })
            .map(|d| println!("{d}")),
        ManifestCommand::Push { list, destination, registry } => registry
            .options()
            .and_then(|o| manifests::push(&ListName::parse(list)?, destination, &o))
            .map(|d| println!("{d}")),
        ManifestCommand::Rm { list, registry } => {
            registry.options().and_then(|o| manifests::remove(&ListName::parse(list)?, &o))
        }
        ManifestCommand::Inspect(inspect_args) => inspect(inspect_args),
    };
    match result {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("archway manifest: {message}");
            1
        }
    }
}

fn inspect(args: &InspectArgs) -> Result<(), String> {
    let options = args.registry.options()?;
    let list = ListName::parse(&args.reference).ok().filter(|list| list.read(&options).is_some());
    let reference = match list {
        Some(list) => ImageRef::OciLayout { dir: list.layout, selector: Selector::Tag(list.tag) },
        None => ImageRef::parse(&args.reference).map_err(|e| e.to_string())?,
    };
    let mut store = open(&reference, &options).map_err(|e| e.to_string())?;
    let top = store.top().map_err(|e| e.to_string())?;
    if args.raw {
        return std::io::stdout().write_all(&top.bytes).map_err(|e| e.to_string());
    }
    let report = if is_index(&top) {
        let entries = entries(&top).map_err(|e| e.to_string())?;
        let manifests: Vec<serde_json::Value> = entries
            .iter()
            .map(|entry| {
                let (platform, attestation) = match &entry.role {
                    Role::Image => (entry.platform.as_ref().map(|p| p.to_string()), None),
                    Role::Attestation { about } => (None, Some(about.clone().unwrap_or_default())),
                    Role::Other(kind) => (Some(kind.clone()), None),
                };
                serde_json::json!({
                    "digest": entry.digest.to_string(),
                    "mediaType": entry.media_type,
                    "size": entry.size,
                    "platform": platform,
                    "attestationFor": attestation,
                })
            })
            .collect();
        serde_json::json!({"name": args.reference, "mediaType": top.media_type, "digest": top.digest.to_string(), "manifests": manifests})
    } else {
        let resolved = resolve(store.as_mut(), &[]).map_err(|e| e.to_string())?;
        let platform = resolved.images.first().map(|image| image.config_platform.to_string());
        serde_json::json!({"name": args.reference, "mediaType": top.media_type, "digest": top.digest.to_string(), "platform": platform})
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?);
    } else {
        print!("{}", human(&report));
    }
    Ok(())
}

fn is_index(document: &Document) -> bool {
    let media_type = if document.media_type.is_empty() {
        archway_image::layout::own_media_type(&document.bytes)
    } else {
        document.media_type.clone()
    };
    media_type.contains("index") || media_type.contains("manifest.list")
}

/// The report as `docker buildx imagetools inspect` lays it out.
fn human(report: &serde_json::Value) -> String {
    let text = |v: &serde_json::Value| v.as_str().unwrap_or("").to_owned();
    let mut out = format!(
        "Name:      {}\nMediaType: {}\nDigest:    {}\n",
        text(&report["name"]),
        text(&report["mediaType"]),
        text(&report["digest"])
    );
    if let Some(platform) = report.get("platform") {
        out.push_str(&format!("Platform:  {}\n", platform.as_str().unwrap_or("(unknown)")));
    }
    if let Some(manifests) = report["manifests"].as_array() {
        out.push_str("\nManifests:\n");
        for manifest in manifests {
            let what = match (manifest["platform"].as_str(), manifest["attestationFor"].as_str()) {
                (_, Some(about)) => format!("attestation for {about}"),
                (Some(platform), None) => platform.to_owned(),
                (None, None) => "(no platform)".to_owned(),
            };
            out.push_str(&format!(
                "  {}  {:<24} {:>9}  {}\n",
                text(&manifest["digest"]),
                what,
                manifest["size"].as_u64().unwrap_or(0),
                text(&manifest["mediaType"])
            ));
        }
    }
    out
}
