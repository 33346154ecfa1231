//! Payloads built here from real ELF files: the repository's aarch64 `hello_dynamic`
//! and this test binary (x86_64), packed into wheels and jars with the zip crate.

use super::*;
use archway_arch::{ARCHES, ARM64};
use std::io::{Cursor, Write};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// An aarch64 ELF shared program (dynamic, PIE).
fn aarch64_elf() -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/bin/hello_dynamic");
    std::fs::read(path).expect("fixtures/bin/hello_dynamic")
}

/// An x86_64 ELF: this test program.
fn x86_64_elf() -> Vec<u8> {
    std::fs::read(std::env::current_exe().expect("the test binary")).expect("read the test binary")
}

fn arch(name: &str) -> &'static Arch {
    Arch::for_platform(name).expect(name)
}

/// A zip of `entries`: (name, bytes, stored instead of deflated).
fn zip(entries: &[(&str, &[u8], bool)]) -> Vec<u8> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes, stored) in entries {
        let method = if *stored { CompressionMethod::Stored } else { CompressionMethod::Deflated };
        let options = SimpleFileOptions::default().compression_method(method);
        writer.start_file(*name, options).expect("start an entry");
        writer.write_all(bytes).expect("write an entry");
    }
    writer.finish().expect("finish the zip").into_inner()
}

#[test]
fn extension_module_names() {
    let name = ExtensionName::parse("_ssl.cpython-311-x86_64-linux-gnu.so").unwrap();
    assert_eq!(name.module, "_ssl");
    assert_eq!(name.tag.as_deref(), Some("cpython-311-x86_64-linux-gnu"));
    assert_eq!(name.named_arch, Some(arch("amd64")));
    let named = |file: &str| ExtensionName::parse(file).and_then(|n| n.named_arch).map(|a| a.platform);
    assert_eq!(named("numpy/core/_multiarray_umath.cpython-311-aarch64-linux-gnu.so"), Some("arm64"));
    assert_eq!(named("_x.cpython-311-powerpc64le-linux-gnu.so"), Some("ppc64le"));
    assert_eq!(named("_x.cpython-39-arm-linux-gnueabihf.so"), Some("arm"));
    assert_eq!(named("_x.cpython-312-s390x-linux-gnu.so"), Some("s390x"));
    assert_eq!(named("_x.cpython-311-riscv64-linux-gnu.so"), Some("riscv64"));
    assert_eq!(named("_x.cpython-311-i386-linux-gnu.so"), Some("386"));
    assert_eq!(named("_x.pypy39-pp73-x86_64-linux-gnu.so"), Some("amd64"));
    assert_eq!(named("_x.cpython-311-x86_64-linux-musl.so"), Some("amd64"));
    let abi3 = ExtensionName::parse("_cffi_backend.abi3.so").unwrap();
    assert_eq!((abi3.module.as_str(), abi3.tag.as_deref(), abi3.named_arch), ("_cffi_backend", Some("abi3"), None));
    let plain = ExtensionName::parse("lib-dynload/_x.so").unwrap();
    assert_eq!((plain.module.as_str(), plain.tag, plain.named_arch), ("_x", None, None));
    assert_eq!(ExtensionName::parse("libfoo.so.1"), None);
    assert_eq!(ExtensionName::parse(".so"), None);
    assert_eq!(ExtensionName::parse("module.py"), None);
}

#[test]
fn an_extension_module_is_what_its_elf_header_says() {
    let aarch64 = aarch64_elf();
    let path = "/usr/lib/python3/dist-packages/_x.cpython-311-x86_64-linux-gnu.so";
    let payload = python_extension(path, &aarch64[..32]).unwrap();
    assert_eq!(payload.linux_architectures(), [ARM64], "the ELF header decides, not the name");
    assert_eq!(payload.built_for[0].evidence, Evidence::ElfHeader { machine: 183, os_abi: 0 });
    match &payload.kind {
        Kind::PythonExtension(name) => assert_eq!(name.named_arch, Some(arch("amd64")), "the disagreement shows"),
        other => panic!("{other:?}"),
    }
    assert!(payload.runs_on_linux(ARM64) && !payload.runs_on_linux(arch("amd64")));
    assert_eq!(payload.problem, None);

    let x86_64 = python_extension("_y.abi3.so", &x86_64_elf()[..64]).unwrap();
    assert_eq!(x86_64.linux_architectures(), [arch("amd64")]);

    let text = python_extension("_z.so", b"/* GNU ld script */").unwrap();
    assert!(text.built_for.is_empty());
    assert_eq!(text.problem.as_deref(), Some("not an ELF file"));
    let truncated = python_extension("_z.so", &aarch64[..8]).unwrap();
    assert!(truncated.built_for.is_empty() && truncated.problem.is_some());
    assert_eq!(python_extension("_z.py", &aarch64), None);
}

#[test]
fn wheel_tags_name_systems_and_machines() {
    let architectures =
        |tag: &str| wheel_tags("WHEEL", &format!("Wheel-Version: 1.0\nTag: {tag}\n")).linux_architectures();
    let platforms = |tag: &str| architectures(tag).iter().map(|a| a.platform).collect::<Vec<_>>();
    assert_eq!(platforms("cp311-cp311-manylinux_2_17_x86_64"), ["amd64"]);
    assert_eq!(platforms("cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64"), ["arm64"]);
    assert_eq!(platforms("cp312-cp312-musllinux_1_1_x86_64"), ["amd64"]);
    assert_eq!(platforms("cp39-cp39-linux_armv7l"), ["arm"]);
    assert_eq!(platforms("cp311-cp311-manylinux2014_i686"), ["386"]);
    assert_eq!(platforms("cp311-cp311-manylinux2014_ppc64le"), ["ppc64le"]);
    assert_eq!(platforms("cp311-cp311-manylinux2014_s390x"), ["s390x"]);
    assert_eq!(platforms("cp311-cp311-manylinux_2_31_riscv64"), ["riscv64"]);
    assert_eq!(platforms("cp311-cp311-manylinux1_x86_64.manylinux1_i686"), ["amd64", "386"]);
    assert_eq!(platforms("cp311-cp311-macosx_10_9_universal2"), Vec::<&str>::new(), "macOS is no Linux");
    assert_eq!(platforms("cp311-cp311-win_amd64"), Vec::<&str>::new());

    let pure = wheel_tags(
        "six-1.16.0.dist-info/WHEEL",
        "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py2-none-any\nTag: py3-none-any\n",
    );
    assert!(pure.is_pure());
    assert!(ARCHES.iter().all(|a| pure.runs_on_linux(a)));
    assert_eq!(pure.built_for.len(), 1, "one claim per distinct platform tag");
    assert_eq!(
        pure.built_for[0],
        Built { target: Target::AnyArch, os: Os::Unstated, evidence: Evidence::WheelTag("any".into()) }
    );

    let mac = wheel_tags("WHEEL", "Tag: cp311-cp311-macosx_10_9_universal2\n");
    let targets: Vec<&Target> = mac.built_for.iter().map(|b| &b.target).collect();
    assert_eq!(targets, [&Target::Arch(ARM64), &Target::Arch(arch("amd64"))]);
    assert!(mac.built_for.iter().all(|b| b.os == Os::Other("macosx_10_9_universal2".into())));
    assert!(!mac.runs_on_linux(ARM64));

    let odd = wheel_tags("WHEEL", "Tag: cp311-cp311-linux_sparc64\n");
    assert_eq!(odd.built_for[0].target, Target::Unknown("sparc64".into()));
    assert_eq!(odd.built_for[0].os, Os::Linux);

    let none = wheel_tags("WHEEL", "Wheel-Version: 1.0\n");
    assert!(none.built_for.is_empty());
    assert_eq!(none.problem.as_deref(), Some("no Tag: line"));
}

#[test]
fn wheel_archives_carry_tags_and_extension_modules() {
    let aarch64 = aarch64_elf();
    let wheel_file =
        b"Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64\n";
    let bytes = zip(&[
        ("fastthing/__init__.py", b"from ._native import go\n", false),
        ("fastthing/_native.cpython-311-aarch64-linux-gnu.so", &aarch64, false),
        ("fastthing-1.0.dist-info/WHEEL", wheel_file, false),
        ("fastthing-1.0.dist-info/RECORD", b"", false),
    ]);
    let wheel = wheel_archive("fastthing-1.0-cp311-cp311-manylinux_2_17_aarch64.whl", &bytes).unwrap();
    assert_eq!(wheel.tags.linux_architectures(), [ARM64]);
    assert_eq!(wheel.tags.path, "fastthing-1.0-cp311-cp311-manylinux_2_17_aarch64.whl!/fastthing-1.0.dist-info/WHEEL");
    assert_eq!(wheel.extensions.len(), 1);
    assert_eq!(wheel.extensions[0].linux_architectures(), [ARM64]);
    assert!(wheel.extensions[0].path.ends_with("!/fastthing/_native.cpython-311-aarch64-linux-gnu.so"));
    assert!(wheel.problems.is_empty());

    // Tagged x86_64, but the module inside is aarch64: both claims are there to compare.
    let mislabelled = zip(&[
        ("m/_c.abi3.so", &aarch64, true),
        ("m-2.0.dist-info/WHEEL", b"Tag: cp38-abi3-manylinux_2_17_x86_64\n", false),
    ]);
    let wheel = wheel_archive("m.whl", &mislabelled).unwrap();
    assert_eq!(wheel.tags.linux_architectures(), [arch("amd64")]);
    assert_eq!(wheel.extensions[0].linux_architectures(), [ARM64]);

    let without_wheel_file = wheel_archive("x.whl", &zip(&[("x/__init__.py", b"", false)])).unwrap();
    assert_eq!(without_wheel_file.tags.problem.as_deref(), Some("no *.dist-info/WHEEL file"));
    assert!(wheel_archive("x.whl", b"PK\x03\x04 not really").is_err());
}

#[test]
fn node_addons() {
    let addon = node_addon("node_modules/bcrypt/lib/binding/napi-v3/bcrypt_lib.node", &x86_64_elf()[..20]).unwrap();
    assert_eq!(addon.kind, Kind::NodeAddon);
    assert_eq!(addon.linux_architectures(), [arch("amd64")]);
    let arm = node_addon("build/Release/addon.node", &aarch64_elf()).unwrap();
    assert!(arm.runs_on_linux(ARM64) && !arm.runs_on_linux(arch("amd64")));
    assert_eq!(node_addon("index.js", b"module.exports = 1"), None);
    assert_eq!(node_addon("x.node", b"").unwrap().problem.as_deref(), Some("not an ELF file"));
}

#[test]
fn jars_report_the_architectures_of_their_native_libraries() {
    let (aarch64, x86_64) = (aarch64_elf(), x86_64_elf());
    // FreeBSD's linker brands its ELF files: EI_OSABI 9.
    let mut freebsd = x86_64[..4096].to_vec();
    freebsd[7] = 9;
    let bytes = zip(&[
        ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n", false),
        ("org/sqlite/JDBC.class", b"\xca\xfe\xba\xbe", false),
        ("META-INF/native/linux-x86_64/libnetty_transport_native_epoll.so", &x86_64, true),
        ("org/sqlite/native/Linux/aarch64/libsqlitejdbc.so", &aarch64, false),
        ("org/sqlite/native/Linux-Android/aarch64/libsqlitejdbc.so", &aarch64, false),
        ("org/sqlite/native/FreeBSD/x86_64/libsqlitejdbc.so", &freebsd, false),
        ("org/sqlite/native/Mac/aarch64/libsqlitejdbc.dylib", b"\xcf\xfa\xed\xfe", false),
        ("com/sun/jna/linux-ppc64le/libjnidispatch.so.1", b"not ELF, only named", false),
    ]);
    let jar = jar("app/lib/app.jar", &bytes).unwrap();
    assert!(jar.problems.is_empty(), "{:?}", jar.problems);
    let paths: Vec<&str> = jar.libraries.iter().map(|l| l.path.as_str()).collect();
    assert_eq!(paths.len(), 5, "every .so and .so.N entry, no .dylib: {paths:?}");
    assert!(paths[0].starts_with("app/lib/app.jar!/META-INF/native/"));
    assert_eq!(
        jar.linux_architectures().iter().map(|a| a.platform).collect::<Vec<_>>(),
        ["arm64", "amd64", "ppc64le"],
        "Android and FreeBSD libraries serve no Linux image"
    );
    assert!(jar.runs_on_linux(ARM64) && jar.runs_on_linux(arch("amd64")), "both: fine for both");
    assert!(!jar.runs_on_linux(arch("s390x")));

    let library = |suffix: &str| jar.libraries.iter().find(|l| l.path.ends_with(suffix)).expect(suffix);
    let android = library("Linux-Android/aarch64/libsqlitejdbc.so");
    assert_eq!(android.built_for[0].os, Os::Other("Android".into()));
    assert_eq!(android.built_for[0].target, Target::Arch(ARM64));
    let bsd = library("FreeBSD/x86_64/libsqlitejdbc.so");
    assert_eq!(bsd.built_for[0].evidence, Evidence::ElfHeader { machine: 62, os_abi: 9 });
    assert_eq!(bsd.built_for[0].os, Os::Other("FreeBSD".into()));
    assert_eq!(library("Linux/aarch64/libsqlitejdbc.so").built_for[0].os, Os::Linux);
    let named = library("libjnidispatch.so.1");
    assert_eq!(named.built_for[0].evidence, Evidence::PathName("linux-ppc64le".into()));
    assert_eq!(named.problem.as_deref(), Some("not an ELF file: the architecture is the one its path names"));
}

#[test]
fn architecture_names_in_jar_paths() {
    let named = |entry: &str| {
        let jar = jar("x.jar", &zip(&[(entry, b"not ELF", false)])).unwrap();
        let built = &jar.libraries[0].built_for;
        built.first().map(|b| (b.target.clone(), b.evidence.clone()))
    };
    let by_path = |platform: &str, component: &str| {
        Some((Target::Arch(arch(platform)), Evidence::PathName(component.to_string())))
    };
    assert_eq!(named("com/sun/jna/linux-x86-64/libjnidispatch.so"), by_path("amd64", "linux-x86-64"));
    assert_eq!(named("com/sun/jna/linux-aarch64/libjnidispatch.so"), by_path("arm64", "linux-aarch64"));
    assert_eq!(named("lib/x86_64/libfoo.so"), by_path("amd64", "x86_64"));
    assert_eq!(named("lib/aarch64-linux-gnu/libfoo.so"), by_path("arm64", "aarch64-linux-gnu"));
    assert_eq!(named("native/linux_armhf/libfoo.so"), by_path("arm", "linux_armhf"));
    assert_eq!(named("natives/linux-x86/libfoo.so"), by_path("386", "linux-x86"));
    assert_eq!(named("lib/libfoo.so"), None);
}

#[test]
fn nested_jars_are_read() {
    let inner = zip(&[("org/sqlite/native/Linux/aarch64/libsqlitejdbc.so", &aarch64_elf(), false)]);
    let boot = zip(&[
        ("BOOT-INF/classes/App.class", b"\xca\xfe\xba\xbe", false),
        ("BOOT-INF/lib/sqlite-jdbc-3.45.jar", &inner, true),
        ("BOOT-INF/lib/broken.jar", b"PK\x03\x04 cut short", true),
    ]);
    let jar = jar("app.jar", &boot).unwrap();
    assert_eq!(jar.libraries.len(), 1);
    assert_eq!(
        jar.libraries[0].path,
        "app.jar!/BOOT-INF/lib/sqlite-jdbc-3.45.jar!/org/sqlite/native/Linux/aarch64/libsqlitejdbc.so"
    );
    assert_eq!(jar.linux_architectures(), [ARM64]);
    assert!(!jar.runs_on_linux(arch("amd64")), "an arm64-only native library");
    assert_eq!(jar.problems.len(), 1);
    assert!(jar.problems[0].message.starts_with("app.jar!/BOOT-INF/lib/broken.jar: not a readable zip archive"));
}

#[test]
fn a_jar_without_native_code_runs_everywhere() {
    let jar = jar("plain.jar", &zip(&[("a/B.class", b"\xca\xfe\xba\xbe", false)])).unwrap();
    assert!(jar.libraries.is_empty());
    assert!(ARCHES.iter().all(|a| jar.runs_on_linux(a)));
}

#[test]
fn corrupt_archives_are_errors_not_panics() {
    let good = zip(&[("lib/x86_64/libfoo.so", &x86_64_elf()[..4096], false), ("a/B.class", b"x", false)]);
    assert!(jar("empty.jar", b"").is_err());
    assert!(jar("garbage.jar", b"this is not a zip file at all").is_err());
    for cut in (0..good.len()).step_by(97) {
        // Truncated anywhere: an error or a partial report, never a panic.
        let _ = jar("cut.jar", &good[..cut]);
        let _ = wheel_archive("cut.whl", &good[..cut]);
    }
    let mut flipped = good.clone();
    for at in (0..flipped.len()).step_by(13) {
        flipped[at] ^= 0x5a;
        let _ = jar("flipped.jar", &flipped);
        let _ = wheel_archive("flipped.whl", &flipped);
    }
}

#[test]
fn entries_are_read_within_bounds() {
    // 16 MiB of zeros deflate to a few KiB: a header read takes 20 bytes, a whole read
    // stops past its limit.
    let zeros = vec![0u8; 16 * 1024 * 1024];
    let bytes = zip(&[("big.bin", &zeros, false)]);
    assert!(bytes.len() < 100 * 1024);
    let mut archive = archive::Archive::open(&bytes).unwrap();
    assert_eq!(archive.files(), [(0, "big.bin".to_string())]);
    assert_eq!(archive.prefix(0, 20).unwrap(), [0u8; 20]);
    let error = archive.whole(0, 1024).unwrap_err();
    assert_eq!(error.message, "big.bin: larger than the 1024 bytes read from an entry");
    assert_eq!(archive.whole(0, zeros.len() as u64).unwrap().len(), zeros.len());
}
