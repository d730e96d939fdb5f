//! `vdisim rules`: the rule table every result and report refers to.

use clap::Args;
use std::process::ExitCode;
use vdi_proto::RULES;

#[derive(Args, Debug)]
pub struct RulesArgs {
    /// Print the table as JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &RulesArgs) -> Result<ExitCode, String> {
    if args.json {
        let text = serde_json::to_string_pretty(RULES).map_err(|e| e.to_string())?;
        crate::out::outln!("{text}");
    } else {
        for rule in RULES {
            let code = rule.code.map_or("NOERROR", |c| c.name());
            crate::out::outln!(
                "{:<22} {:<18} {:<8} {:<28} {}",
                rule.id,
                code,
                format!("{:?}", rule.kind),
                rule.section,
                rule.summary
            );
        }
        crate::out::outln!("{} rules", RULES.len());
    }
    Ok(ExitCode::SUCCESS)
}
