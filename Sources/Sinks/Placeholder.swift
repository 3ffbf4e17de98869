public enum SinksModule {}
