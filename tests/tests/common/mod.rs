//! An HTTP client of the gateway as the app and PC clients use it.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
}

impl Client {
    pub fn new(base: &str) -> Self {
        Self { http: reqwest::Client::new(), base: base.to_owned() }
    }

    pub async fn login(&self, login: &str) -> String {
        let response = self
            .http
            .post(format!("{}/v1/dev/tokens", self.base))
            .json(&json!({ "login": login }))
            .send()
            .await
            .expect("token request");
        assert_eq!(response.status(), StatusCode::OK, "login {login}");
        let body: Value = response.json().await.expect("json");
        body["token"].as_str().expect("token").to_owned()
    }

    pub async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        let response = self.http.get(format!("{}{path}", self.base)).bearer_auth(token).send().await.expect("request");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn submit(&self, token: &str, county: &str, key: Option<&str>, body: Value) -> (StatusCode, Value) {
        let mut request =
            self.http.post(format!("{}/v1/counties/{county}/suggestions", self.base)).bearer_auth(token).json(&body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Polls `path` until `found` holds for one of its items.
    pub async fn await_item(&self, token: &str, path: &str, found: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (status, body) = self.get(token, path).await;
            assert_eq!(status, StatusCode::OK, "{path}: {body}");
            if let Some(item) = body["items"].as_array().and_then(|items| items.iter().find(|i| found(i))) {
                return item.clone();
            }
            assert!(Instant::now() < deadline, "{path}: nothing matching within 30s; last: {body}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// POSTs `body` and returns the status and JSON answer.
    pub async fn post(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// PUTs `body` and returns the status and JSON answer.
    pub async fn put(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        let response =
            self.http.put(format!("{}{path}", self.base)).bearer_auth(token).json(&body).send().await.expect("request");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}
