//! Machine lifecycle: approve, reject, suspend, retire and rotate-secret, shared by the admin
//! HTTP endpoints and the `pgfarm-server admin` command.

use pgfarm_model::api::{self, MachineState};

use crate::db::{MachineRow, Store};
use crate::error::ApiError;
use crate::secrets::ServerKey;

/// An admin action on a machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// pending/rejected/suspended -> approved, with a new secret.
    Approve,
    /// pending -> rejected.
    Reject,
    /// approved -> suspended.
    Suspend,
    /// any -> retired.
    Retire,
    /// approved or suspended: a new secret, state unchanged.
    RotateSecret,
}

impl Action {
    /// Parses the path segment / command name.
    pub fn parse(text: &str) -> Option<Action> {
        Some(match text {
            "approve" => Action::Approve,
            "reject" => Action::Reject,
            "suspend" => Action::Suspend,
            "retire" => Action::Retire,
            "rotate-secret" => Action::RotateSecret,
            _ => return None,
        })
    }

    /// The path segment / command name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Suspend => "suspend",
            Action::Retire => "retire",
            Action::RotateSecret => "rotate-secret",
        }
    }
}

/// Applies `action` to machine `name`. Returns the updated row and, for approve and
/// rotate-secret, the new secret (to be shown once and never again).
pub async fn apply(
    store: &dyn Store,
    key: &ServerKey,
    name: &str,
    action: Action,
) -> Result<(MachineRow, Option<String>), ApiError> {
    let row = store
        .machine(name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("machine `{name}`")))?;
    let state = MachineState::parse(&row.state).unwrap_or(MachineState::Pending);
    let (next, new_secret) = match (action, state) {
        (
            Action::Approve,
            MachineState::Pending | MachineState::Rejected | MachineState::Suspended,
        ) => (MachineState::Approved, true),
        (Action::Reject, MachineState::Pending) => (MachineState::Rejected, false),
        (Action::Suspend, MachineState::Approved) => (MachineState::Suspended, false),
        (Action::Retire, state) if state != MachineState::Retired => (MachineState::Retired, false),
        (Action::RotateSecret, MachineState::Approved | MachineState::Suspended) => (state, true),
        (action, state) => {
            return Err(ApiError::new(
                api::ErrorCode::Conflict,
                format!("cannot {} machine `{name}`: it is {}", action.as_str(), state.as_str()),
            ));
        }
    };
    let row = store
        .set_machine_state(name, next.as_str(), new_secret, crate::now_ms())
        .await?
        .ok_or_else(|| ApiError::not_found(format!("machine `{name}`")))?;
    let secret = new_secret.then(|| key.machine_secret(&row.name, row.secret_generation));
    tracing::info!(machine = %name, action = action.as_str(), state = next.as_str(), "machine changed");
    Ok((row, secret))
}
