//! What `ADD` does beyond `COPY`: a URL source is downloaded (mode 0600, named after the
//! URL's last path segment, never extracted), and a local source that is a tar archive,
//! plain or compressed with gzip, zstd, bzip2 or xz (recognised by its bytes, as docker does, not by
//! its name), is extracted into the destination. Extraction goes through the image
//! reader's checks (no `..`, no absolute escapes, no write through a link) into a scratch
//! directory first.

use archway_image::tree::Tree;
use archway_image::write::atomic::TempPath;
use archway_image::{layer, unpack, Digest};
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Whether `source` is a URL `ADD` downloads.
pub fn is_url(source: &str) -> bool {
    source.starts_with("http://") || source.starts_with("https://")
}

/// The file name a downloaded URL gets: its path's last segment.
pub fn url_file_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let after_host = path.splitn(4, '/').nth(3).unwrap_or("");
    match after_host.rsplit('/').next() {
        Some(name) if !name.is_empty() => name.to_owned(),
        _ => "download".to_owned(),
    }
}

/// Download `url` into `dir` (once per build); the file.
pub fn download(url: &str, dir: &Path) -> Result<PathBuf, String> {
    let name = Digest::of(url.as_bytes()).hex().to_owned();
    let path = dir.join(&name[..32]);
    if path.is_file() {
        return Ok(path);
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let response = ureq::get(url).call().map_err(|e| format!("ADD {url}: {e}"))?;
    // A temporary name of its own (removed on failure): the platforms of a build may
    // download the same URL at the same time.
    let (partial, mut file) = TempPath::file_next_to(&path).map_err(|e| e.to_string())?;
    std::io::copy(&mut response.into_reader(), &mut file).map_err(|e| format!("ADD {url}: {e}"))?;
    file.flush().map_err(|e| format!("{}: {e}", partial.path().display()))?;
    partial.rename_to(&path).map_err(|e| e.to_string())?;
    Ok(path)
}

/// How a local file's bytes start.
fn archive_kind(file: &Path) -> Result<Option<&'static str>, String> {
    let mut head = [0u8; 512];
    let mut opened = File::open(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut filled = 0;
    while filled < head.len() {
        match opened.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) => return Err(format!("{}: {e}", file.display())),
        }
    }
    let head = &head[..filled];
    Ok(if head.starts_with(&[0x1f, 0x8b]) {
        Some("gzip")
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some("zstd")
    } else if head.starts_with(b"BZh") {
        Some("bzip2")
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Some("xz")
    } else if head.len() >= 262 && &head[257..262] == b"ustar" {
        Some("tar")
    } else {
        None
    })
}

/// If `file` is a tar archive (plain, or compressed with gzip, zstd, bzip2 or xz),
/// extract it into a new directory `scratch` and return it; `None` for any other file
/// (it is copied as it is).
pub fn extract_if_archive(file: &Path, scratch: &Path) -> Result<Option<PathBuf>, String> {
    let decompressed;
    let file = match archive_kind(file)? {
        None => return Ok(None),
        Some(kind @ ("bzip2" | "xz")) => {
            decompressed = scratch.with_extension("tar");
            decompress(kind, file, &decompressed)?;
            decompressed.as_path()
        }
        Some(_) => file,
    };
    let digest = Digest::of(&std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?);
    let open = || File::open(file).map_err(|e| format!("{}: {e}", file.display()));
    let mut tree: Tree<()> = Tree::default();
    if layer::apply(&mut tree, 0, &digest, open()?, &mut |_| Ok(())).is_err() {
        // Compressed, but not a tar inside (a plain .gz file): copied as it is.
        return Ok(None);
    }
    std::fs::create_dir_all(scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    let failed = |e: archway_image::Error| format!("extracting {}: {e}", file.display());
    unpack::skeleton(&tree, scratch).map_err(failed)?;
    unpack::layer_files(&tree, scratch, 0, &digest, open()?).map_err(failed)?;
    unpack::attributes(&tree, scratch, false).map_err(failed)?;
    Ok(Some(scratch.to_path_buf()))
}

/// Decompress a bzip2 or xz `file` (which layers never are, so the layer reader does
/// not know them) into `out`.
fn decompress(kind: &str, file: &Path, out: &Path) -> Result<(), String> {
    let failed = |e: &dyn std::fmt::Display| format!("extracting {} ({kind}): {e}", file.display());
    let input = std::io::BufReader::new(File::open(file).map_err(|e| failed(&e))?);
    let mut output = std::io::BufWriter::new(File::create(out).map_err(|e| failed(&e))?);
    if kind == "bzip2" {
        std::io::copy(&mut bzip2::read::MultiBzDecoder::new(input), &mut output).map_err(|e| failed(&e))?;
    } else {
        let mut input = input;
        lzma_rs::xz_decompress(&mut input, &mut output).map_err(|e| failed(&e))?;
    }
    output.flush().map_err(|e| failed(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_names() {
        assert_eq!(url_file_name("https://example.org/a/b/tool.tar.gz?x=1"), "tool.tar.gz");
        assert_eq!(url_file_name("http://127.0.0.1:8000/"), "download");
        assert!(is_url("https://x/y") && !is_url("./https"));
    }

    #[test]
    fn archives_by_their_bytes() {
        let dir = std::env::temp_dir().join(format!("archway-add-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_ustar();
        header.set_size(5);
        header.set_mode(0o644);
        builder.append_data(&mut header, "inside/file.txt", &b"hello"[..]).unwrap();
        let tar = builder.into_inner().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&tar).unwrap();
        std::fs::write(dir.join("a.bin"), gz.finish().unwrap()).unwrap();
        let out = extract_if_archive(&dir.join("a.bin"), &dir.join("x")).unwrap().unwrap();
        assert_eq!(std::fs::read_to_string(out.join("inside/file.txt")).unwrap(), "hello");
        std::fs::write(dir.join("plain.txt"), "not an archive").unwrap();
        assert_eq!(extract_if_archive(&dir.join("plain.txt"), &dir.join("y")).unwrap(), None);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"just compressed text").unwrap();
        std::fs::write(dir.join("t.gz"), gz.finish().unwrap()).unwrap();
        assert_eq!(extract_if_archive(&dir.join("t.gz"), &dir.join("z")).unwrap(), None);
        std::fs::write(dir.join("b.bz2"), b"BZh91AY").unwrap();
        assert!(extract_if_archive(&dir.join("b.bz2"), &dir.join("w")).unwrap_err().contains("bzip2"));
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
        bz.write_all(&tar).unwrap();
        std::fs::write(dir.join("c.bin"), bz.finish().unwrap()).unwrap();
        let out = extract_if_archive(&dir.join("c.bin"), &dir.join("c")).unwrap().unwrap();
        assert_eq!(std::fs::read_to_string(out.join("inside/file.txt")).unwrap(), "hello");
        let mut xz = Vec::new();
        lzma_rs::xz_compress(&mut &tar[..], &mut xz).unwrap();
        std::fs::write(dir.join("d.bin"), &xz).unwrap();
        let out = extract_if_archive(&dir.join("d.bin"), &dir.join("d")).unwrap().unwrap();
        assert_eq!(std::fs::read_to_string(out.join("inside/file.txt")).unwrap(), "hello");
        xz.truncate(xz.len() / 2);
        std::fs::write(dir.join("e.bin"), &xz).unwrap();
        assert!(extract_if_archive(&dir.join("e.bin"), &dir.join("e")).unwrap_err().contains("(xz)"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
