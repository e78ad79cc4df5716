//! The steps' host on AWS: S3, Athena and SES v2 (or SMTP), built once for
//! one step from the environment, as its Lambda does at start and as
//! `s3la invoke STEP` does without `--logs`.

use crate::aws::athena::AthenaEngine;
use crate::aws::s3::S3Store;
use crate::aws::sdk_config;
use crate::aws::secrets::link_signer;
use crate::aws::ses::Ses;
use crate::config::Env;
use crate::email::smtp::SmtpConfig;
use crate::email::transport::Transport;
use crate::error::StepError;
use crate::links::cloudfront::CloudFrontSigner;
use crate::links::{LinkConfig, SignLink};

use super::catalog::{Host, Port, Settings, Step, not_supplied};

/// One step's settings and the clients its catalog row names; nothing else
/// is read or built, so a Lambda fails its init only on its own settings.
pub struct AwsHost {
    settings: Settings,
    store: Option<S3Store>,
    engine: Option<AthenaEngine>,
    mail: Option<Transport>,
    links: Option<CloudFrontSigner>,
}

impl AwsHost {
    pub async fn for_step(step: Step, env: &dyn Env) -> Result<Self, StepError> {
        let settings = Settings::from_env(step, env)?;
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
        let mut host = AwsHost {
            settings,
            store: None,
            engine: None,
            mail: None,
            links: None,
        };
        if step.describe().uses.is_empty() {
            // No client: the SDK's settings (region, credentials) are not looked up.
            return Ok(host);
        }
        let sdk = sdk_config().await;
        if step.uses(Port::Store) {
            host.store = Some(S3Store::from_config(&sdk));
        }
        if step.uses(Port::Engine) {
            let client = aws_sdk_athena::Client::new(&sdk);
            // Only starting a query needs the query settings.
            host.engine = Some(match &host.settings.query {
                Some(query) => AthenaEngine::new(client, query.clone()),
                None => AthenaEngine::status_only(client),
            });
        }
        if step.uses(Port::Mail) {
            let ses = || Transport::Ses(Ses::from_config(&sdk));
            host.mail = Some(Transport::smtp_or(smtp.as_ref(), ses)?);
        }
        if let Some(links) = &links {
            host.links = Some(link_signer(links, &sdk).await?);
        }
        Ok(host)
    }
}

impl Host for AwsHost {
    type Store = S3Store;
    type Engine = AthenaEngine;
    type Mail = Transport;

    fn settings(&self) -> &Settings {
        &self.settings
    }

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
