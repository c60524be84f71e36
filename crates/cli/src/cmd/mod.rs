//! One module per `pgfarm` subcommand: its clap arguments and its `run` function.

pub(crate) mod diff;
pub(crate) mod docs;
pub(crate) mod machine;
pub(crate) mod pg;
pub(crate) mod pgxn;
pub(crate) mod prove;
pub(crate) mod regress;
pub(crate) mod serve;
pub(crate) mod submit;
pub(crate) mod tap;
pub(crate) mod test;
pub(crate) mod tmp;
pub(crate) mod view;
pub(crate) mod worker;
