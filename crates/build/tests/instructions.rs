//! Dockerfiles to stages of typed commands: a multi-stage file with every instruction,
//! and the errors BuildKit gives for wrong ones, each with its line.

use archway_build::dockerfile::parse;
use archway_build::instructions::{stages, ArgDefinition, Command, Network, Stages};
use std::time::Duration;

fn stages_of(text: &str) -> Result<Stages, String> {
    let dockerfile = parse(text).map_err(|e| e.located("Dockerfile"))?;
    stages(&dockerfile).map_err(|e| e.located("Dockerfile"))
}

const MULTI_STAGE: &str = r#"# syntax=docker/dockerfile:1
ARG DEBIAN=bookworm
ARG GO
FROM --platform=$BUILDPLATFORM golang:1.22 AS Build
ARG TARGETARCH
WORKDIR /src
COPY --link go.mod go.sum ./
RUN --mount=type=cache,target=/root/.cache/go-build --network=none \
    GOARCH=$TARGETARCH go build -o /out/app .
FROM debian:${DEBIAN}-slim
ENV A=1 B="two words"
LABEL org.opencontainers.image.title=app
COPY --from=build --chown=1000:1000 --chmod=755 /out/app /usr/local/bin/
COPY <<EOF /etc/app.conf
port=8080
EOF
RUN <<-SCRIPT
	apt-get update
	SCRIPT
USER 1000
EXPOSE 8080/tcp 443
VOLUME ["/data"]
HEALTHCHECK --interval=30s --retries=3 CMD curl -f http://localhost/ || exit 1
STOPSIGNAL SIGTERM
SHELL ["/bin/bash", "-c"]
ONBUILD RUN echo built on
ENTRYPOINT ["/usr/local/bin/app"]
CMD ["--serve"]
"#;

#[test]
fn a_multi_stage_file_with_every_instruction() {
    let parsed = stages_of(MULTI_STAGE).unwrap();
    let globals: Vec<&ArgDefinition> = parsed.global_args.iter().flat_map(|step| &step.command).collect();
    assert_eq!(globals[0], &ArgDefinition { name: "DEBIAN".into(), default: Some("bookworm".into()) });
    assert_eq!(globals[1], &ArgDefinition { name: "GO".into(), default: None });
    let [build, runtime] = parsed.stages.as_slice() else { panic!("two stages: {parsed:?}") };
    assert_eq!(
        (build.name.as_deref(), build.platform.as_deref(), build.base.as_str()),
        (Some("build"), Some("$BUILDPLATFORM"), "golang:1.22")
    );
    assert_eq!((runtime.name.as_deref(), runtime.base.as_str(), runtime.line), (None, "debian:${DEBIAN}-slim", 10));
    let Command::Run(run) = &build.commands[3].command else { panic!() };
    assert_eq!(run.network, Network::None);
    assert_eq!(run.mounts, ["type=cache,target=/root/.cache/go-build"]);
    assert_eq!(run.command.args, ["GOARCH=$TARGETARCH go build -o /out/app ."]);
    assert!(run.command.shell_form);
    assert_eq!(build.commands[3].line, 8);
    let commands: Vec<&Command> = runtime.commands.iter().map(|step| &step.command).collect();
    let Command::Copy(copy) = commands[2] else { panic!() };
    assert_eq!(
        (copy.from.as_deref(), copy.chown.as_deref(), copy.chmod.as_deref()),
        (Some("build"), Some("1000:1000"), Some("755"))
    );
    let Command::Copy(inline) = commands[3] else { panic!() };
    assert_eq!(
        (inline.sources.contents[0].data.as_str(), inline.sources.destination.as_str()),
        ("port=8080\n", "/etc/app.conf")
    );
    let Command::Run(heredoc_run) = commands[4] else { panic!() };
    assert_eq!(heredoc_run.command.files[0].name, "SCRIPT");
    let Command::Expose(ports) = commands[6] else { panic!() };
    assert_eq!(ports, &["443", "8080/tcp"]);
    let Command::Healthcheck(health) = commands[8] else { panic!() };
    assert_eq!(health.test, ["CMD-SHELL", "curl -f http://localhost/ || exit 1"]);
    assert_eq!((health.interval, health.retries), (Duration::from_secs(30), 3));
    assert_eq!(commands[10], &Command::Shell(vec!["/bin/bash".into(), "-c".into()]));
    assert_eq!(commands[11], &Command::Onbuild("RUN echo built on".into()));
    let Command::Entrypoint(entrypoint) = commands[12] else { panic!() };
    assert!(!entrypoint.shell_form);
}

#[test]
fn expansion_touches_only_the_words_buildkit_expands() {
    let parsed = stages_of("FROM x\nCOPY --chown=$U --from=$S $SRC $DST\nRUN echo $U\n").unwrap();
    let mut copy = parsed.stages[0].commands[0].command.clone();
    copy.expand(&mut |word| Ok(word.replace("$U", "1000").replace("$SRC", "a").replace("$DST", "/b"))).unwrap();
    let Command::Copy(copy) = copy else { panic!() };
    assert_eq!((copy.chown.as_deref(), copy.from.as_deref()), (Some("1000"), Some("$S")));
    assert_eq!((copy.sources.paths.as_slice(), copy.sources.destination.as_str()), (&["a".to_owned()][..], "/b"));
    let mut run = parsed.stages[0].commands[1].command.clone();
    run.expand(&mut |_| Err("not called".into())).unwrap();
}

#[test]
fn wrong_instructions_fail_with_their_line() {
    let cases = [
        ("RUN x\n", "Dockerfile:1: no build stage in current context"),
        ("FROM a b\n", "Dockerfile:1: FROM requires either one or three arguments"),
        (
            "FROM a AS 1x\n",
            "Dockerfile:1: invalid name for build stage: \"1x\", name can't start with a number or contain symbols",
        ),
        ("FROM a\nCOPPY x y\n", "Dockerfile:2: unknown instruction: COPPY (did you mean copy?)"),
        (
            "FROM a\nCOPY x\n",
            "Dockerfile:2: COPY requires at least two arguments, but only one was provided. Destination could not be determined",
        ),
        ("FROM a\nCOPY --frm=b x y\n", "Dockerfile:2: unknown flag: --frm (did you mean --from?)"),
        ("FROM a\nRUN --network=bridge x\n", "Dockerfile:2: invalid network mode \"bridge\""),
        ("FROM a\nRUN --mount=type=volume x\n", "Dockerfile:2: unsupported mount type \"volume\""),
        ("FROM a\nUSER\n", "Dockerfile:2: USER requires exactly one argument"),
        ("FROM a\nSHELL bash -c\n", "Dockerfile:2: SHELL requires the arguments to be in JSON form: SHELL bash -c"),
        ("FROM a\nONBUILD FROM b\n", "Dockerfile:2: FROM isn't allowed as an ONBUILD trigger"),
        ("FROM a\nHEALTHCHECK PING x\n", "Dockerfile:2: Unknown type \"PING\" in HEALTHCHECK (try CMD)"),
        ("FROM a\nHEALTHCHECK --interval=1us CMD x\n", "Dockerfile:2: Interval \"interval\" cannot be less than 1ms"),
        ("FROM a\nARG =x\n", "Dockerfile:2: ARG names can not be blank"),
        ("FROM a\nVOLUME [\"\"]\n", "Dockerfile:2: VOLUME specified can not be an empty string"),
        ("FROM a\nENV A=1 B\n", "Dockerfile:2: Syntax error - can't find = in \"B\". Must be of the form: name=value"),
        ("FROM a\nCOPY x <<EOF\nEOF\n", "Dockerfile:2: COPY cannot accept a heredoc as a destination"),
    ];
    for (text, expected) in cases {
        assert_eq!(stages_of(text).unwrap_err(), expected, "{text:?}");
    }
}
