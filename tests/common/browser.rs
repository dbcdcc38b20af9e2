//! A browser, by hand: follows redirects between the gateway and the test
//! provider, keeps the gateway's cookies, and stops at the portal (which does
//! not exist) so tests can read where the gateway sent it.

use std::collections::HashMap;

/// One response on the way.
#[derive(Debug, Clone)]
pub struct Step {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub content_type: Option<String>,
    pub body: String,
}

pub struct Browser {
    client: reqwest::Client,
    gateway: String,
    provider: String,
    /// The gateway's cookies, by name.
    pub cookies: HashMap<String, String>,
    /// The public URL the gateway believes it has, mapped to where it listens.
    public_url: Option<String>,
    /// The `Accept` header sent: JSON (a program) unless told otherwise.
    accept: &'static str,
}

impl Browser {
    pub fn new(gateway: &str, provider_issuer: &str) -> Self {
        let provider = url::Url::parse(provider_issuer)
            .expect("the provider's URL")
            .origin()
            .ascii_serialization();
        Self {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("a client"),
            gateway: gateway.to_owned(),
            provider,
            cookies: HashMap::new(),
            public_url: None,
            accept: "application/json",
        }
    }

    /// Asks for pages as a browser does (`Accept: text/html`).
    pub fn reading_html(mut self) -> Self {
        self.accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        self
    }

    /// Requests to `public_url` go to the gateway (as a load balancer would).
    pub fn with_public_url(mut self, public_url: &str) -> Self {
        self.public_url = Some(public_url.to_owned());
        self
    }

    fn resolve(&self, url: &str) -> String {
        match &self.public_url {
            Some(public) if url.starts_with(public.as_str()) => {
                format!("{}{}", self.gateway, &url[public.len()..])
            }
            _ => url.to_owned(),
        }
    }

    /// GETs `url` as a browser would, sending the gateway its cookies.
    pub async fn get(&mut self, url: &str) -> Step {
        let url = self.resolve(url);
        let mut request = self.client.get(&url).header("accept", self.accept);
        if url.starts_with(&self.gateway) && !self.cookies.is_empty() {
            let header = self
                .cookies
                .iter()
                .map(|(name, value)| format!("{name}={value}"))
                .collect::<Vec<_>>()
                .join("; ");
            request = request.header("cookie", header);
        }
        let response = request.send().await.expect("GET");
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_owned());
        let set_cookies: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        for cookie in &set_cookies {
            let pair = cookie.split(';').next().unwrap_or_default();
            let (name, value) = pair.split_once('=').expect("name=value");
            if value.is_empty() || cookie.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let content_type = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned());
        let body = response.text().await.unwrap_or_default();
        Step {
            status,
            location,
            set_cookies,
            content_type,
            body,
        }
    }

    /// Follows redirects from `url` while they stay on the gateway or the
    /// provider; returns every step, the last one first pointing elsewhere
    /// (the portal) or not redirecting.
    pub async fn follow(&mut self, url: &str) -> Vec<Step> {
        let mut steps = Vec::new();
        let mut next = url.to_owned();
        for _ in 0..10 {
            let step = self.get(&next).await;
            let location = step.location.clone();
            steps.push(step);
            match location {
                Some(location) if self.is_ours(&location) => next = location,
                _ => return steps,
            }
        }
        panic!("too many redirects from {url}");
    }

    fn is_ours(&self, location: &str) -> bool {
        let resolved = self.resolve(location);
        resolved.starts_with(&self.gateway) || resolved.starts_with(&self.provider)
    }
}

/// The `access_token` in the fragment of `location`.
pub fn fragment_token(location: &str) -> Option<String> {
    let fragment = url::Url::parse(location).ok()?.fragment()?.to_owned();
    url::form_urlencoded::parse(fragment.as_bytes())
        .find(|(key, _)| key == "access_token")
        .map(|(_, value)| value.into_owned())
}
