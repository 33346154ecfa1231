//! Which [`Store`] a reference opens: the transport it names, and for a bare file the
//! format its contents show (a Docker archive has `manifest.json`, an OCI archive
//! `oci-layout`).

use crate::docker_archive::DockerArchiveStore;
use crate::error::Error;
use crate::files::Files;
use crate::layout::LayoutStore;
use crate::reference::ImageRef;
use crate::registry::{RegistryOptions, RegistryStore};
use crate::store::Store;

/// The store of `reference` (`registry` applies to `docker://` references). An unpacked
/// root (`dir:`) has no store: it is read as a tree ([`crate::rootfs`]).
pub fn open(reference: &ImageRef, registry: &RegistryOptions) -> Result<Box<dyn Store>, Error> {
    Ok(match reference {
        ImageRef::OciLayout { dir, selector } => Box::new(LayoutStore::new(Files::dir(dir)?, selector.clone())?),
        ImageRef::OciArchive { file, selector } => Box::new(LayoutStore::new(Files::tar(file)?, selector.clone())?),
        ImageRef::DockerArchive { file, selector } => {
            let files = Files::tar(file)?;
            if !files.exists("manifest.json") && files.exists("oci-layout") {
                Box::new(LayoutStore::new(files, selector.clone())?)
            } else {
                Box::new(DockerArchiveStore::new(files, selector.clone())?)
            }
        }
        ImageRef::Registry(r) => Box::new(RegistryStore::new(r, registry)?),
        ImageRef::RootDir { dir } => {
            return Err(Error::invalid(format!("dir:{}", dir.display()), "an unpacked root has no manifest to open"))
        }
    })
}
