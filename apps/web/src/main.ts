import { createApp } from 'vue'
import App from './App.vue'
import { session } from './account'
import { createAppRouter } from './router'
import './styles.css'

createApp(App).use(createAppRouter(session)).mount('#app')
