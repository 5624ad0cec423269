//! WebShop (`agentenv_webshop`): `env_idx` ids; `/create` answers the bare id; `/step` answers
//! `state` (the page text) with `info: null`; `/reset` takes an optional `session_id` (the goal)
//! and answers `[observation, null]`; plus `/available_actions`, `/instruction_text`,
//! `/observation`, `/state`, `/list_envs` and (ours) `/close`.
//!
//! A new session starts on goal `env_idx % goals` (the reference starts on a random one), and
//! `/reset` without `session_id` goes back to that goal.

use axum::extract::State;
use axum::response::Response;
use crossgym_env_webshop::Session;
use serde_json::json;

use super::{Answer, EnvSession, EnvState, Fields};
use crate::app::{ok, reply};
use crate::registry::WebShopData;

/// One client's WebShop session.
#[derive(Debug, Default)]
pub struct ShopSession {
    session: Option<Session>,
    default_goal: usize,
}

impl EnvSession<WebShopData> for ShopSession {
    type ResetArgs = Option<i64>;

    fn reset_args(fields: &mut Fields) -> Option<i64> {
        fields.opt_int("session_id")
    }

    fn reset(&mut self, data: &WebShopData, _: i64, session_id: Option<i64>) -> Answer {
        let goal = match session_id {
            None => self.default_goal,
            Some(goal) => usize::try_from(goal)
                .map_err(|_| format!("session_id must be non-negative, got {goal}"))?,
        };
        let observation = start(data, goal, self)?;
        Ok(json!([observation, null]))
    }

    fn step(&mut self, data: &WebShopData, id: i64, action: String) -> Answer {
        let session = self
            .session
            .as_mut()
            .ok_or_else(|| super::env_not_found(id))?;
        let catalogue = &data.catalogue;
        let outcome = session.step(&action, catalogue, catalogue.index());
        Ok(json!({
            "state": outcome.observation,
            "reward": outcome.reward,
            "done": outcome.done,
            "info": null,
        }))
    }
}

fn start(data: &WebShopData, goal: usize, session: &mut ShopSession) -> Result<String, String> {
    let goals = data.catalogue.goals();
    let chosen = goals.get(goal).ok_or_else(|| {
        format!(
            "session_id {goal} is out of range (goals 0..{})",
            goals.len()
        )
    })?;
    let fresh = Session::new(chosen.clone(), goal);
    let observation = fresh.observation(&data.catalogue);
    session.session = Some(fresh);
    Ok(observation)
}

pub(crate) async fn list_envs(State(app): EnvState<WebShopData, ShopSession>) -> Response {
    ok(json!(app.sessions.ids()))
}

pub(crate) async fn create(State(app): EnvState<WebShopData, ShopSession>) -> Response {
    reply(
        app.create(|data, id, session| {
            let n = data.catalogue.goals().len().max(1);
            session.default_goal = usize::try_from(id % n as u64).unwrap_or(0);
            start(data, session.default_goal, session).map(|_| ())
        })
        .await
        .map(|(id, ())| json!(id)),
    )
}

impl ShopSession {
    /// The session's shop, or the reference's not-found text.
    fn shop(&self, id: i64) -> Result<&Session, String> {
        self.session
            .as_ref()
            .ok_or_else(|| super::env_not_found(id))
    }
}

/// `GET /available_actions`: whether the page has a search bar, and its clickables.
pub(crate) fn available_actions(data: &WebShopData, s: &ShopSession, id: i64) -> Answer {
    let (has_search_bar, clickables) = s.shop(id)?.available_actions(&data.catalogue);
    Ok(json!({ "has_search_bar": has_search_bar, "clickables": clickables }))
}

/// `GET /instruction_text`: the goal's instruction.
pub(crate) fn instruction_text(_: &WebShopData, s: &ShopSession, id: i64) -> Answer {
    let instruction = &s.shop(id)?.goal().instruction_text;
    Ok(json!(format!("Instruction: {instruction}")))
}

/// `GET /observation`: the page as text.
pub(crate) fn observation(data: &WebShopData, s: &ShopSession, id: i64) -> Answer {
    Ok(json!(s.shop(id)?.observation(&data.catalogue)))
}

/// `GET /state`: the reference's url and html, which a text-only shop does not have.
pub(crate) fn state(_: &WebShopData, _: &ShopSession, _: i64) -> Answer {
    Err(
        "crossgym's WebShop renders pages as text only: /state (url, html) is not available; \
         use /observation"
            .to_owned(),
    )
}
