CREATE TABLE user_badges (user_id INTEGER NOT NULL, badge TEXT NOT NULL, awarded_at TEXT,
                          PRIMARY KEY (user_id, badge));
