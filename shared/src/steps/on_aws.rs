//! The steps' clients on AWS: S3, Athena and SES v2 (or SMTP), built once for
//! one step from the environment, as its Lambda does at start and as
//! `s3la invoke STEP` does without `--logs`.

use crate::aws::athena::AthenaEngine;
use crate::aws::mail_transport::Transport;
use crate::aws::s3::S3Store;
use crate::aws::sdk_config;
use crate::aws::secrets::link_signer;
use crate::aws::ses::Ses;
use crate::config::Env;
use crate::email::smtp::SmtpConfig;
use crate::error::StepError;
use crate::links::cloudfront::CloudFrontSigner;
use crate::links::{LinkConfig, SignLink};

use super::catalog::{Clients, Port, Settings, Step, not_supplied};

/// The clients one step's catalog row names; nothing else is read or
/// built, so a Lambda fails its init only on its own settings.
pub struct AwsClients {
    store: Option<S3Store>,
    engine: Option<AthenaEngine>,
    mail: Option<Transport>,
    links: Option<CloudFrontSigner>,
}

impl AwsClients {
    /// `settings` are the step's own ([`Settings::from_env`]).
    pub async fn for_step(
        step: Step,
        settings: &Settings,
        env: &dyn Env,
    ) -> Result<Self, StepError> {
        let smtp = if step.uses(Port::Mail) {
            SmtpConfig::from_env(env)?
        } else {
            None
        };
        let links = if step.uses(Port::Links) {
            LinkConfig::from_env(env)?
        } else {
            None
        };
        let mut clients = AwsClients {
            store: None,
            engine: None,
            mail: None,
            links: None,
        };
        if step.describe().uses.is_empty() {
            // No client: the SDK's settings (region, credentials) are not looked up.
            return Ok(clients);
        }
        let sdk = sdk_config().await;
        if step.uses(Port::Store) {
            clients.store = Some(S3Store::from_config(&sdk));
        }
        if step.uses(Port::Engine) {
            let client = aws_sdk_athena::Client::new(&sdk);
            // Only starting a query needs the query settings.
            clients.engine = Some(match &settings.query {
                Some(query) => AthenaEngine::new(client, query.clone()),
                None => AthenaEngine::status_only(client),
            });
        }
        if step.uses(Port::Mail) {
            let ses = || Transport::Ses(Ses::from_config(&sdk));
            clients.mail = Some(Transport::smtp_or(smtp.as_ref(), ses)?);
        }
        if let Some(links) = &links {
            clients.links = Some(link_signer(links, &sdk).await?);
        }
        Ok(clients)
    }
}

impl Clients for AwsClients {
    type Store = S3Store;
    type Engine = AthenaEngine;
    type Mail = Transport;

    fn store(&self) -> Result<&S3Store, StepError> {
        self.store
            .as_ref()
            .ok_or_else(|| not_supplied("the S3 client"))
    }

    fn engine(&self) -> Result<&AthenaEngine, StepError> {
        self.engine
            .as_ref()
            .ok_or_else(|| not_supplied("the Athena client"))
    }

    fn mail(&self) -> Result<&Transport, StepError> {
        self.mail
            .as_ref()
            .ok_or_else(|| not_supplied("the mail transport"))
    }

    fn links(&self) -> Option<&dyn SignLink> {
        self.links.as_ref().map(|s| s as &dyn SignLink)
    }
}
