//! OCI archives (`oci-archive:FILE`, what skopeo and buildx's `type=oci,dest=FILE.tar`
//! write): a tar of an OCI layout, `oci-layout`, `index.json` and `blobs/sha256/*`. The
//! layout is written first (with [`super::LayoutWriter`]) and archived whole; each blob
//! is checked against its name on its way into the archive.

use super::archive::ArchiveWriter;
use crate::digest::Digest;
use crate::error::Error;
use crate::files::Files;
use crate::layout::LayoutStore;
use crate::reference::Selector;
use std::path::Path;

/// Archive the OCI layout in directory `layout` as file `dest` (replaced whole, or not
/// at all on an error). Files of the layout directory that are not `oci-layout`,
/// `index.json` or a sha256 blob are not archived.
pub fn write_oci_archive(layout: &Path, dest: &Path) -> Result<(), Error> {
    LayoutStore::new(Files::dir(layout)?, Selector::Default)?;
    let blob_dir = layout.join("blobs/sha256");
    let mut blobs = Vec::new();
    for entry in std::fs::read_dir(&blob_dir).map_err(|e| Error::io(&blob_dir, e))? {
        let name = entry.map_err(|e| Error::io(&blob_dir, e))?.file_name();
        if let Ok(digest) = Digest::parse(&format!("sha256:{}", name.to_string_lossy())) {
            blobs.push(digest);
        }
    }
    blobs.sort();

    let mut archive = ArchiveWriter::create(dest)?;
    for name in ["oci-layout", "index.json"] {
        let path = layout.join(name);
        archive.add_bytes(name, &std::fs::read(&path).map_err(|e| Error::io(&path, e))?)?;
    }
    archive.add_dir("blobs")?;
    archive.add_dir("blobs/sha256")?;
    for digest in blobs {
        let path = blob_dir.join(digest.hex());
        let mut file = std::fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
        let (_, actual) =
            archive.add_stream(&format!("blobs/sha256/{}", digest.hex()), &mut file, |e| Error::io(&path, e))?;
        if actual != digest {
            return Err(Error::Blob { digest, reason: format!("{} has digest {actual}", path.display()) });
        }
    }
    archive.finish()
}
