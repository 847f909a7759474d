//! `deploy/env/<command>.env.example` lists exactly the environment twins of `op-sequencer
//! <command>`'s flags, and every value in it parses. Helm and compose use these names.
use clap::CommandFactory;
use op_sequencer::cli::Cli;
use std::collections::BTreeSet;

fn example(name: &str) -> Vec<(String, String, bool)> {
    let path = format!("{}/../../deploy/env/{name}.env.example", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .filter_map(|l| {
            let (commented, l) = match l.strip_prefix("# ") {
                Some(rest) if rest.starts_with("OPSEQ_") => (true, rest),
                _ if l.starts_with('#') || l.trim().is_empty() => return None,
                _ => (false, l),
            };
            let (k, v) = l.split_once('=').unwrap_or_else(|| panic!("{name}: bad line {l:?}"));
            Some((k.to_string(), v.to_string(), commented))
        })
        .collect()
}

#[test]
fn env_examples_match_the_cli_and_parse() {
    let cli = Cli::command();
    let globals: Vec<_> = cli.get_arguments().cloned().collect();
    for sub in ["dev", "state-fetcher", "txpool", "signer", "publisher", "builder"] {
        let cmd = cli.find_subcommand(sub).unwrap_or_else(|| panic!("no subcommand {sub}"));
        let args: Vec<_> = cmd.get_arguments().chain(globals.iter()).filter(|a| a.get_env().is_some()).collect();
        let wanted: BTreeSet<String> =
            args.iter().map(|a| a.get_env().unwrap().to_string_lossy().to_string()).collect();
        let entries = example(sub);
        let have: BTreeSet<String> = entries.iter().map(|(k, _, _)| k.clone()).collect();
        assert_eq!(have, wanted, "deploy/env/{sub}.env.example differs from `op-sequencer {sub}` flags");
        // Every value parses through clap, as the flag it stands for.
        let mut argv = vec!["op-sequencer".to_string(), sub.to_string()];
        for (k, v, commented) in &entries {
            if *commented {
                continue;
            }
            let a = args.iter().find(|a| a.get_env().unwrap().to_string_lossy() == *k).unwrap();
            let long = a.get_long().unwrap();
            let is_flag = matches!(a.get_action(), clap::ArgAction::SetTrue);
            if is_flag {
                if v == "true" {
                    argv.push(format!("--{long}"));
                }
            } else {
                argv.push(format!("--{long}"));
                argv.push(v.clone());
            }
        }
        let parsed = <Cli as clap::Parser>::try_parse_from(&argv);
        assert!(parsed.is_ok(), "{sub}: {argv:?}: {}", parsed.unwrap_err());
    }
}
